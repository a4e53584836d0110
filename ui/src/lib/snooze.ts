// Snooze choices, computed from the local clock.

export interface SnoozeChoice {
  label: string;
  until: number;
}

/** "In 1 hour", "Tomorrow 9:00", "Next week" (Monday 9:00). The first is the default. */
export function snoozeChoices(now: number): SnoozeChoice[] {
  const tomorrow = new Date(now);
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const monday = new Date(now);
  const toMonday = (8 - monday.getDay()) % 7 || 7;
  monday.setDate(monday.getDate() + toMonday);
  monday.setHours(9, 0, 0, 0);
  return [
    { label: 'In 1 hour', until: now + 3_600_000 },
    { label: 'Tomorrow 9:00', until: tomorrow.getTime() },
    { label: 'Next week (Mon 9:00)', until: monday.getTime() },
  ];
}
