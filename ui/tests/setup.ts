import '@testing-library/jest-dom/vitest';

// jsdom has no layout, so no ResizeObserver: a do-nothing stand-in lets bind:clientHeight mount
// (components fall back to a default viewport height when nothing is measured).
if (!('ResizeObserver' in globalThis)) {
  class NoLayoutResizeObserver {
    observe() {}
    unobserve() {}
    disconnect() {}
  }
  (globalThis as unknown as { ResizeObserver: unknown }).ResizeObserver = NoLayoutResizeObserver;
}
