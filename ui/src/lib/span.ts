// Spans of business time as people write them: 30m, 2h, 1h30m (or plain minutes).

/** Minutes as a short span: 90 → "1h30m", 120 → "2h", 45 → "45m". */
export function formatSpan(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m}m`;
  return m === 0 ? `${h}h` : `${h}h${m}m`;
}

/** "1h30m", "2h", "45m", "90" → minutes; null for anything else or zero. */
export function parseSpan(text: string): number | null {
  const t = text.trim().toLowerCase().replace(/\s+/g, '');
  if (/^\d+$/.test(t)) return Number(t) > 0 ? Number(t) : null;
  const m = /^(?:(\d+)h)?(?:(\d+)m(?:in)?)?$/.exec(t);
  if (!m || (m[1] === undefined && m[2] === undefined)) return null;
  const minutes = Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
  return minutes > 0 ? minutes : null;
}

/** Whether `text` is a time of day the engine takes: HH:MM, 24:00 at most. */
export function isClock(text: string): boolean {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) return false;
  const [h, min] = [Number(m[1]), Number(m[2])];
  return min < 60 && (h < 24 || (h === 24 && min === 0));
}
