// The inbox list's state: the view, its total, the rows fetched so far (by page), the selection.
import * as api from '../lib/api';
import type { InboxCounts, InboxRow, Sort, View } from '../lib/types';
import { clampIndex, pagesFor, type RowWindow } from '../lib/virtual';

/** Rows per `inbox` request. */
export const PAGE_SIZE = 100;

export class InboxStore {
  view = $state<View>('open');
  sort = $state<Sort>('activity');
  /** Only conversations with this tag, in whichever view; null for all. */
  tag = $state<string | null>(null);
  total = $state(0);
  /** Fetched rows by page number; a missing page is not loaded (or being loaded). */
  pages = $state<Record<number, InboxRow[]>>({});
  counts = $state<Partial<InboxCounts>>({});
  selected = $state(-1);
  /** Id of the selected row, kept so a refresh can follow it when rows move. */
  selectedId = $state<string | null>(null);
  error = $state<string | null>(null);
  loaded = $state(false);

  #window: RowWindow = { start: 0, end: 0 };
  #generation = 0;
  #inflight = new Set<number>();

  /** The row at an index, when its page is loaded. */
  row(i: number): InboxRow | undefined {
    return this.pages[Math.floor(i / PAGE_SIZE)]?.[i % PAGE_SIZE];
  }

  /** Changes the order: starts over from the top, in the same view. */
  async setSort(s: Sort) {
    this.sort = s;
    await this.setView(this.view);
  }

  /** Filters by a tag (or stops, with null): starts over from the top, in the same view. */
  async setTag(tag: string | null) {
    this.tag = tag;
    await this.setView(this.view);
  }

  /** Switches view: starts over from the top. */
  async setView(v: View) {
    this.view = v;
    this.pages = {};
    this.total = 0;
    this.selected = -1;
    this.selectedId = null;
    this.loaded = false;
    this.#generation++;
    this.#window = { start: 0, end: Math.max(this.#window.end - this.#window.start, 40) };
    await Promise.all([this.#load(pagesFor(this.#window, PAGE_SIZE), true), this.refreshCounts()]);
  }

  /** The list scrolled: fetch the pages the new window needs that are not loaded yet. */
  async setWindow(w: RowWindow) {
    this.#window = w;
    const missing = pagesFor(w, PAGE_SIZE).filter((p) => !this.pages[p] && !this.#inflight.has(p));
    if (missing.length) await this.#load(missing, false);
  }

  /**
   * The replica changed: refetch the pages in view (others are dropped, to be fetched again when
   * scrolled to) and the counts. The scroll position is untouched; the selection follows its row.
   */
  async refresh() {
    this.#generation++;
    await Promise.all([this.#load(pagesFor(this.#window, PAGE_SIZE), true), this.refreshCounts()]);
  }

  async refreshCounts() {
    try {
      this.counts = await api.inboxCounts();
    } catch (e) {
      this.error = api.toAppError(e).message;
    }
  }

  async #load(pages: number[], replace: boolean) {
    const gen = this.#generation;
    if (pages.length === 0) pages = [0];
    pages.forEach((p) => this.#inflight.add(p));
    try {
      const results = await Promise.all(
        pages.map((p) => api.inbox(this.view, p * PAGE_SIZE, PAGE_SIZE, this.sort, this.tag)),
      );
      if (gen !== this.#generation) return; // a newer request has the say
      const next: Record<number, InboxRow[]> = replace ? {} : { ...this.pages };
      pages.forEach((p, i) => (next[p] = results[i].rows));
      this.pages = next;
      this.total = results[results.length - 1].total;
      this.loaded = true;
      this.error = null;
      this.#followSelection();
    } catch (e) {
      if (gen === this.#generation) this.error = api.toAppError(e).message;
    } finally {
      pages.forEach((p) => this.#inflight.delete(p));
    }
  }

  #followSelection() {
    if (this.selectedId) {
      for (const [p, rows] of Object.entries(this.pages)) {
        const i = rows.findIndex((r) => r.conversation_id === this.selectedId);
        if (i >= 0) {
          this.selected = Number(p) * PAGE_SIZE + i;
          return;
        }
      }
    }
    this.selected = this.total === 0 ? -1 : clampIndex(this.selected, this.total);
  }

  /** Selects a row by index. */
  select(i: number) {
    this.selected = clampIndex(i, this.total);
    this.selectedId = this.row(this.selected)?.conversation_id ?? null;
  }

  /** Moves the selection by `delta` rows (j/k). */
  move(delta: number) {
    this.select(this.selected < 0 ? 0 : this.selected + delta);
  }
}
