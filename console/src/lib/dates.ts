/** UTC calendar helpers: every date the console shows or sends is a UTC date (YYYY-MM-DD) or month (YYYY-MM). */
export function utcDate(moment: Date): string {
  return moment.toISOString().slice(0, 10);
}

export function utcMonth(moment: Date): string {
  return moment.toISOString().slice(0, 7);
}

export function firstDayOf(period: string): string {
  return `${period}-01`;
}

/** The period's last calendar day: "2026-02" → "2026-02-28". */
export function monthEndOf(period: string): string {
  const [year, month] = period.split("-").map(Number);
  return utcDate(new Date(Date.UTC(year, month, 0)));
}

/** The period's last day, or `today` when the period is the current month (month to date). */
export function lastDayOf(period: string, today: string): string {
  const last = monthEndOf(period);
  return today.startsWith(period) && today < last ? today : last;
}

/** A real calendar date as YYYY-MM-DD (2026-02-30 is not one, though Date.parse rolls it into March). */
export function isDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const parsed = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(parsed) && utcDate(new Date(parsed)) === text;
}
export const isPeriod = (text: string): boolean => /^\d{4}-(0[1-9]|1[0-2])$/.test(text);

/** Seconds since the epoch at 00:00 UTC of the date: the x value the charts plot. */
export function dateToEpochSeconds(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 1000;
}

/** An RFC 3339 moment as shown: "2026-11-20 14:03:07 UTC". */
export function utcMoment(moment: string | null | undefined): string {
  if (!moment) return "—";
  const parsed = new Date(moment);
  return Number.isNaN(parsed.getTime()) ? moment : `${parsed.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
