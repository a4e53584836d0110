// The desktop benchmark's in-app half (docs/benchmarks.md, "Desktop app"). Does nothing unless the
// shell's `bench_enabled` says so (SHOAL_DESKTOP_BENCH): then it marks when the inbox is
// interactive, opens conversations and types searches through the UI's own paths (clicks on rows,
// input events on the search box), times each until the result is painted, and hands the figures
// to `bench_report`. `shoal-bench desktop` starts the app, reads the printed lines and measures
// memory.
import { invoke } from '@tauri-apps/api/core';
import { ROW_HEIGHT } from './virtual';

/** Conversations opened, spread evenly over the "All" view. */
export const OPEN_COUNT = 20;
/** Words of the synthetic team (shoal-synth), typed one character at a time. */
export const QUERIES = ['refund', 'invoice', 'password', 'shipping', 'crash'];
/** Timing knobs (the unit test shortens the pause). */
export const tuning = {
  /** Pause between actions: a person does not act within milliseconds of the last paint. */
  pauseMs: 120,
  /** Longest wait for any one thing to appear before the run is reported as failed. */
  timeoutMs: 30_000,
};

/** What `bench_report` receives. */
export interface BenchReport {
  /** From the first click on a row to its entries painted, one per conversation. */
  open_ms: number[];
  /** From one input event in the search box to its results painted, one per keystroke. */
  search_ms: number[];
  /** Of open_ms: until the entries were in the DOM (the rest is layout and paint). */
  open_dom_ms: number[];
  /** Of search_ms: until the shell's answer was in (IPC and engine; the rest is render and paint). */
  search_answer_ms: number[];
  /** performance.now() when the inbox first showed rows, painted (page clock, not process). */
  interactive_page_ms: number;
  opened: string[];
  keystrokes: { query: string; ms: number; hits: number }[];
  rows_total: number;
  /**
   * What the page showed: the inbox (measured), or onboarding: an empty home, launched by the
   * driver to weigh the app with no data (memory only, nothing to time).
   */
  screen: 'inbox' | 'onboarding';
  error?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Two animation frames: the DOM change has been laid out and painted. */
export const painted = () =>
  new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));

/** Resolves with `find()`'s first non-null answer, checked now and on every DOM change. */
export function waitFor<T>(find: () => T | null | undefined, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const now = find();
    if (now != null) return resolve(now);
    const obs = new MutationObserver(() => {
      const v = find();
      if (v != null) {
        obs.disconnect();
        clearTimeout(timer);
        resolve(v);
      }
    });
    const timer = setTimeout(() => {
      obs.disconnect();
      reject(new Error(`benchmark: gave up waiting for ${what} after ${tuning.timeoutMs} ms`));
    }, tuning.timeoutMs);
    obs.observe(document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      characterData: true,
    });
  });
}

/**
 * Tells when the shell calls that an action started have answered: identical answers to two
 * keystrokes change nothing in the DOM to wait for. Tauri's invoke cannot be wrapped (its
 * properties are read-only), but every call registers its answer callbacks synchronously in
 * `__TAURI_INTERNALS__.callbacks` (a Map) and removes them when the answer has been handled.
 */
class CallWatch {
  #recording: number[] | null = null;
  #waiters: { ids: number[]; done: () => void }[] = [];
  #map: Map<number, unknown>;

  constructor() {
    const internals = (window as unknown as { __TAURI_INTERNALS__?: { callbacks?: unknown } })
      .__TAURI_INTERNALS__;
    const map = internals?.callbacks;
    if (!(map instanceof Map)) {
      throw new Error('benchmark: this Tauri has no __TAURI_INTERNALS__.callbacks map to watch');
    }
    this.#map = map as Map<number, unknown>;
    const set = this.#map.set.bind(this.#map);
    const del = this.#map.delete.bind(this.#map);
    this.#map.set = (id: number, cb: unknown) => {
      this.#recording?.push(id);
      return set(id, cb);
    };
    this.#map.delete = (id: number) => {
      const had = del(id);
      this.#waiters = this.#waiters.filter((w) => {
        if (w.ids.some((i) => this.#map.has(i))) return true;
        w.done();
        return false;
      });
      return had;
    };
  }

  /** Runs `act`; resolves once every shell call it started synchronously has answered. */
  during(act: () => void): Promise<number> {
    const ids: number[] = [];
    this.#recording = ids;
    try {
      act();
    } finally {
      this.#recording = null;
    }
    return new Promise((done) => {
      if (ids.every((i) => !this.#map.has(i))) done(ids.length);
      else this.#waiters.push({ ids, done: () => done(ids.length) });
    });
  }
}

const q = (sel: string): HTMLElement | null => document.querySelector<HTMLElement>(sel);
const css = (s: string) => (typeof CSS !== 'undefined' && CSS.escape ? CSS.escape(s) : s);

/** Opens conversations spread over the list by clicking their rows, as a person does. */
async function openConversations(report: BenchReport) {
  // The "All" view: the whole team's history to pick from, old closed conversations included.
  q('[data-testid="view-all"]')?.click();
  await waitFor(
    () => q('[data-testid="view-all"][aria-current="page"]') && q('[data-testid="inbox-row"]'),
    'the All view',
  );
  const list = await waitFor(() => q('[data-testid="inbox-list"]'), 'the inbox list');
  const viewport = list.parentElement as HTMLElement;
  const total = Math.round(parseFloat(list.style.height || '0') / ROW_HEIGHT);
  report.rows_total = total;
  if (total === 0) throw new Error('benchmark: the inbox is empty');
  const n = Math.min(OPEN_COUNT, total);
  for (let k = 0; k < n; k++) {
    const index = n === 1 ? 0 : Math.round((k * (total - 1)) / (n - 1));
    viewport.scrollTop = index * ROW_HEIGHT;
    viewport.dispatchEvent(new Event('scroll'));
    const row = await waitFor(
      () => q(`#row-${index}[data-testid="inbox-row"]`),
      `inbox row ${index}`,
    );
    const id = row.dataset.conversationId ?? '';
    await painted();
    const t0 = performance.now();
    row.click();
    await waitFor(
      () =>
        q(`[data-testid="conversation"][data-conversation-id="${css(id)}"] [data-testid="entry"]`),
      `conversation ${id}`,
    );
    report.open_dom_ms.push(performance.now() - t0);
    await painted();
    report.open_ms.push(performance.now() - t0);
    report.opened.push(id);
    await sleep(tuning.pauseMs);
  }
}

const countResults = () => document.querySelectorAll('[data-testid="search-result"]').length;

/** Types each query a character at a time into the search box, as a person does. */
async function typeSearches(report: BenchReport, watch: CallWatch) {
  const button = await waitFor(() => q('button[aria-label="Search"]'), 'the search button');
  button.click();
  const input = await waitFor(
    () => document.querySelector<HTMLInputElement>('[data-testid="search-input"]'),
    'the search box',
  );
  for (const query of QUERIES) {
    input.value = '';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await waitFor(() => (q('[data-testid="search-result"]') ? null : true), 'an empty search');
    await painted();
    for (let i = 1; i <= query.length; i++) {
      const typed = query.slice(0, i);
      input.value = typed;
      const t0 = performance.now();
      const calls = await watch.during(() =>
        input.dispatchEvent(new InputEvent('input', { bubbles: true, data: typed.at(-1) })),
      );
      if (calls === 0) throw new Error(`benchmark: typing "${typed}" asked the shell nothing`);
      report.search_answer_ms.push(performance.now() - t0);
      // The answer is in: let the search box apply it (microtasks) before waiting for the paint.
      await sleep(0);
      await painted();
      const ms = performance.now() - t0;
      report.search_ms.push(ms);
      report.keystrokes.push({ query: typed, ms, hits: countResults() });
      await sleep(tuning.pauseMs);
    }
  }
}

/**
 * Runs the benchmark when the shell asks for it; otherwise returns after one `bench_enabled` call
 * (which a shell without the hooks rejects, and that is fine too). Resolves to the report sent,
 * or null when not benchmarking.
 */
export async function runBenchmarkIfEnabled(): Promise<BenchReport | null> {
  let enabled = false;
  try {
    enabled = (await invoke<boolean>('bench_enabled')) === true;
  } catch {
    return null;
  }
  if (!enabled) return null;
  const report: BenchReport = {
    open_ms: [],
    search_ms: [],
    open_dom_ms: [],
    search_answer_ms: [],
    interactive_page_ms: 0,
    opened: [],
    keystrokes: [],
    rows_total: 0,
    screen: 'inbox',
  };
  try {
    const watch = new CallWatch();
    // The page's script runs: what comes before is process, window and WebKit start-up.
    await invoke('bench_mark', { name: 'ui-started' });
    const first = await waitFor(
      () => q('[data-testid="inbox-row"]') ?? q('[data-testid="onboarding"]'),
      'the first inbox rows (or the onboarding screen)',
    );
    if (first.dataset.testid === 'onboarding') {
      report.screen = 'onboarding';
      await painted();
      await invoke('bench_mark', { name: 'interactive' });
    } else {
      await invoke('bench_mark', { name: 'rows-in-dom' });
      await painted();
      report.interactive_page_ms = performance.now();
      await invoke('bench_mark', { name: 'interactive' });
      await sleep(tuning.pauseMs);
      await openConversations(report);
      await typeSearches(report, watch);
    }
  } catch (e) {
    report.error = e instanceof Error ? e.message : String(e);
  }
  await invoke('bench_report', { report });
  return report;
}
