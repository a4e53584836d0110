// The benchmark hook inside the real App, against a FAKE shell: a stand-in for Tauri's IPC
// (window.__TAURI_INTERNALS__) that answers the commands from memory with small delays. The real
// shell and engine are measured by `shoal-bench desktop`.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import App from '../src/App.svelte';
import { QUERIES, OPEN_COUNT, tuning, runBenchmarkIfEnabled } from '../src/lib/bench';
import type { BenchReport } from '../src/lib/bench';
import { fakeRow } from './fake-api';

const TOTAL = 5_000;
const OPEN_DELAY = 15;
const SEARCH_DELAY = 10;

interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Hits for a query: the same for every prefix of 4+ characters, so some keystrokes change nothing. */
function hitsFor(query: string) {
  const n = query.length >= 4 ? 3 : query.length;
  return Array.from({ length: n }, (_, i) => ({
    kind: 'conversation',
    id: `hit-${query.slice(0, 4)}-${i}`,
    title: `About ${query}`,
    snippet: `… ${query} …`,
    last_activity: 0,
    status: 'open',
    customer_name: 'Ana',
  }));
}

function fakeShell(bench: 'on' | 'off' | 'absent', ready = true) {
  const calls: Call[] = [];
  let rowsAtMark = -1;
  let report: BenchReport | null = null;
  let nextCallback = 1;
  const answer = async (cmd: string, args: Record<string, unknown>): Promise<unknown> => {
    switch (cmd) {
      case 'bench_enabled':
        if (bench === 'absent') throw 'Command bench_enabled not found';
        return bench === 'on';
      case 'bench_mark':
        rowsAtMark = document.querySelectorAll('[data-testid="inbox-row"]').length;
        return null;
      case 'bench_report':
        report = args.report as BenchReport;
        return null;
      case 'app_state':
        return { ready, team_name: 'Acme', agent_id: 'a1', sync: undefined };
      case 'inbox': {
        const offset = args.offset as number;
        const limit = args.limit as number;
        // The benchmark opens from the "All" view; the app starts on "All open".
        const total = args.view === 'all' ? TOTAL : 10;
        const rows = [];
        for (let i = offset; i < Math.min(total, offset + limit); i++) rows.push(fakeRow(i));
        return { rows, total };
      }
      case 'inbox_counts':
        return { open: 10, all: TOTAL };
      case 'team':
        return { agents: [], tags: [] };
      case 'templates':
      case 'presence':
        return [];
      case 'sync_status':
        return { state: 'local', waiting: 0, pending: 0, token_store: 'none' };
      case 'open_conversation': {
        await delay(OPEN_DELAY);
        const id = args.id as string;
        const entry = (n: number) => ({
          id: `${id}-e${n}`,
          kind: 'customer',
          author_id: 'c',
          author_name: 'Ana',
          body: `Message ${n}`,
          created_at: 0,
          delivery_state: null,
          delivery_reason: null,
          unsend_until: null,
          mentions: [],
          logged_by: null,
          unseen: false,
        });
        return {
          id,
          subject: `Subject of ${id}`,
          channel: 'email',
          customer_id: 'cust',
          customer_name: 'Ana',
          status: 'open',
          snooze_until: null,
          assignee: null,
          priority: 'normal',
          tags: [],
          created_at: 0,
          entries: [entry(1), entry(2)],
          conflicts: [],
        };
      }
      case 'search':
        await delay(SEARCH_DELAY);
        return hitsFor(args.query as string);
      case 'plugin:event|listen':
        return nextCallback++;
      default:
        return null;
    }
  };
  // Like Tauri's core.js: each call registers its answer callbacks in a Map and removes them once
  // the answer has been handled.
  const callbacks = new Map<number, (v: unknown) => void>();
  (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__ = {
    callbacks,
    invoke: (cmd: string, args: Record<string, unknown> = {}) =>
      new Promise((resolve, reject) => {
        calls.push({ cmd, args });
        const ok = nextCallback++;
        const err = nextCallback++;
        callbacks.set(ok, (v) => {
          callbacks.delete(ok);
          resolve(v);
          callbacks.delete(err);
        });
        callbacks.set(err, (e) => {
          callbacks.delete(err);
          reject(e);
          callbacks.delete(ok);
        });
        answer(cmd, args).then(
          (v) => callbacks.get(ok)?.(v),
          (e) => callbacks.get(err)?.(e),
        );
      }),
    transformCallback: () => nextCallback++,
  };
  return {
    calls,
    report: () => report,
    rowsAtMark: () => rowsAtMark,
    count: (cmd: string) => calls.filter((c) => c.cmd === cmd).length,
  };
}

beforeAll(() => {
  tuning.pauseMs = 0;
  tuning.timeoutMs = 5_000;
  // jsdom has no layout, so scrollTop never moves: keep the value set, as a browser would.
  Object.defineProperty(HTMLElement.prototype, 'scrollTop', {
    configurable: true,
    get() {
      return (this as { _scrollTop?: number })._scrollTop ?? 0;
    },
    set(v: number) {
      (this as { _scrollTop?: number })._scrollTop = v;
    },
  });
});

afterEach(() => cleanup());

describe('desktop benchmark hook', () => {
  it('does nothing when the shell says no', async () => {
    const shell = fakeShell('off');
    expect(await runBenchmarkIfEnabled()).toBeNull();
    expect(shell.count('bench_mark') + shell.count('bench_report')).toBe(0);
  });

  it('does nothing when the shell has no hooks', async () => {
    const shell = fakeShell('absent');
    expect(await runBenchmarkIfEnabled()).toBeNull();
    expect(shell.calls.map((c) => c.cmd)).toEqual(['bench_enabled']);
  });

  it('leaves the app alone when off', async () => {
    const shell = fakeShell('off');
    render(App);
    await waitFor(() => expect(screen.getAllByTestId('inbox-row').length).toBeGreaterThan(0));
    await delay(50);
    expect(shell.count('bench_enabled')).toBe(1);
    expect(shell.count('open_conversation') + shell.count('search')).toBe(0);
    expect(shell.count('bench_report')).toBe(0);
  });

  it('on an empty home, marks the onboarding screen and reports nothing to time', async () => {
    const shell = fakeShell('on', false);
    render(App);
    await waitFor(() => expect(shell.report()).not.toBeNull(), { timeout: 5_000 });
    const report = shell.report()!;
    expect(report.error).toBeUndefined();
    expect(report.screen).toBe('onboarding');
    expect(screen.getByTestId('onboarding')).toBeTruthy();
    expect(shell.calls.filter((c) => c.cmd === 'bench_mark').map((c) => c.args.name)).toEqual([
      'ui-started',
      'interactive',
    ]);
    expect(report.open_ms.length + report.search_ms.length).toBe(0);
    expect(shell.count('open_conversation') + shell.count('search')).toBe(0);
  });

  it('measures opens and keystrokes through the UI and reports them', async () => {
    const shell = fakeShell('on');
    render(App);
    await waitFor(() => expect(shell.report()).not.toBeNull(), { timeout: 20_000 });
    const report = shell.report()!;
    expect(report.error).toBeUndefined();
    expect(report.screen).toBe('inbox');
    // "interactive" was marked with rows on screen.
    expect(shell.rowsAtMark()).toBeGreaterThan(0);
    expect(report.interactive_page_ms).toBeGreaterThan(0);

    // Twenty opens spread from the first row to the last, each through the shell's open command.
    expect(report.rows_total).toBe(TOTAL);
    expect(report.open_ms).toHaveLength(OPEN_COUNT);
    expect(report.opened[0]).toBe('conv-0');
    expect(report.opened[OPEN_COUNT - 1]).toBe(`conv-${TOTAL - 1}`);
    expect(new Set(report.opened).size).toBe(OPEN_COUNT);
    const opened = shell.calls.filter((c) => c.cmd === 'open_conversation').map((c) => c.args.id);
    expect(opened).toEqual(report.opened);
    // Each open waited for the shell's answer: it cannot be faster than the fake's delay.
    for (const ms of report.open_ms) expect(ms).toBeGreaterThanOrEqual(OPEN_DELAY - 1);

    // One timing per character, each after the search for exactly that prefix answered.
    const typed = QUERIES.flatMap((q) => Array.from(q, (_, i) => q.slice(0, i + 1)));
    expect(report.keystrokes.map((k) => k.query)).toEqual(typed);
    expect(report.search_ms).toHaveLength(typed.length);
    const searched = shell.calls.filter((c) => c.cmd === 'search').map((c) => c.args.query);
    expect(searched).toEqual(typed);
    for (const ms of report.search_ms) expect(ms).toBeGreaterThanOrEqual(SEARCH_DELAY - 1);
    // The breakdown: the shell's part comes first and is never longer than the whole.
    expect(report.search_answer_ms).toHaveLength(typed.length);
    report.search_answer_ms.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(SEARCH_DELAY - 1);
      expect(ms).toBeLessThanOrEqual(report.search_ms[i]);
    });
    expect(report.open_dom_ms).toHaveLength(OPEN_COUNT);
    report.open_dom_ms.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(report.open_ms[i]));
    expect(report.keystrokes.find((k) => k.query === 'refund')?.hits).toBe(3);
    expect(report.keystrokes.find((k) => k.query === 'r')?.hits).toBe(1);
    // The last keystroke's results are on screen.
    const shown = screen.getAllByTestId('search-result').map((e) => e.dataset.id);
    expect(shown).toEqual(hitsFor('crash').map((h) => h.id));
  }, 30_000);

  it('reports a failure instead of hanging when the inbox never shows rows', async () => {
    tuning.timeoutMs = 300;
    try {
      const shell = fakeShell('on');
      document.body.innerHTML = '<main>no inbox here</main>';
      const report = await runBenchmarkIfEnabled();
      expect(report?.error).toMatch(/first inbox rows/);
      expect(shell.report()?.error).toMatch(/first inbox rows/);
      const marks = shell.calls.filter((c) => c.cmd === 'bench_mark').map((c) => c.args.name);
      expect(marks).toEqual(['ui-started']);
    } finally {
      tuning.timeoutMs = 5_000;
      document.body.innerHTML = '';
    }
  });
});
