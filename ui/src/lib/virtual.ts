// Window math for the virtualized inbox list: fixed row height, so the rows in view follow
// from the scroll offset alone, and data is fetched in pages as the window moves.

/** The rows to render: `[start, end)`. */
export interface RowWindow {
  start: number;
  end: number;
}

/** Rows visible at `scrollTop` in a viewport of `height` px, plus `overscan` rows each side. */
export function visibleWindow(
  scrollTop: number,
  height: number,
  rowHeight: number,
  total: number,
  overscan = 8,
): RowWindow {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(0, height) / rowHeight) + 1;
  const start = Math.max(0, Math.min(first - overscan, total - 1));
  const end = Math.min(total, first + count + overscan);
  return { start, end: Math.max(start, end) };
}

/** The page numbers (of `pageSize` rows) that cover a window. */
export function pagesFor(w: RowWindow, pageSize: number): number[] {
  if (w.end <= w.start) return [];
  const first = Math.floor(w.start / pageSize);
  const last = Math.floor((w.end - 1) / pageSize);
  const pages: number[] = [];
  for (let p = first; p <= last; p++) pages.push(p);
  return pages;
}

/**
 * The scrollTop that brings row `index` fully into a viewport, or null when it already is.
 */
export function scrollToReveal(
  index: number,
  scrollTop: number,
  height: number,
  rowHeight: number,
): number | null {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + height) return bottom - height;
  return null;
}

/** Clamps a selection index into `[0, total)`; -1 when the list is empty. */
export function clampIndex(i: number, total: number): number {
  if (total <= 0) return -1;
  return Math.max(0, Math.min(total - 1, i));
}

/** The inbox row height in px: fixed, so the window follows from the scroll offset alone. */
export const ROW_HEIGHT = 74;
