import type { components } from "../api/generated/budgets";

type QuotaLimit = components["schemas"]["QuotaLimit"];

/** One row of the quota editor as typed: every field is text until the API has judged it. */
export type LimitDraft = { meter: string; period: string; limit: string; soft_pct: string; enforcement: string };
export const limitFields = ["meter", "period", "limit", "soft_pct", "enforcement"] as const;
export type LimitField = (typeof limitFields)[number];

export const newLimit = (): LimitDraft => ({ meter: "cost_usd", period: "month", limit: "", soft_pct: "80", enforcement: "throttle" });

export function toDrafts(limits: readonly QuotaLimit[]): LimitDraft[] {
  return limits.map((l) => ({ meter: l.meter, period: l.period, limit: String(l.limit), soft_pct: String(l.soft_pct), enforcement: l.enforcement }));
}

/**
 * The PUT body: the limit stays the decimal string typed (never a float); soft_pct is sent as a number when it is a
 * whole number, else as typed, so the API (not the page) names what is wrong with it.
 */
export function toRequest(drafts: readonly LimitDraft[]): { limits: QuotaLimit[] } {
  return {
    limits: drafts.map((d) => ({
      meter: d.meter.trim(),
      period: d.period,
      limit: d.limit.trim(),
      soft_pct: /^\d{1,9}$/.test(d.soft_pct.trim()) ? Number(d.soft_pct.trim()) : d.soft_pct.trim(),
      enforcement: d.enforcement,
    })),
  };
}

/** The API's field errors placed on the editor: `limits[1].soft_pct` on row 1's soft % input, the rest above the form. */
export type PlacedErrors = { byInput: Map<string, string[]>; general: [string, string[]][] };

export const inputKey = (row: number, field: LimitField): string => `limits[${row}].${field}`;

export function placeErrors(errors: Record<string, string[]>, rows: number): PlacedErrors {
  const byInput = new Map<string, string[]>();
  const general: [string, string[]][] = [];
  for (const [name, messages] of Object.entries(errors)) {
    const match = /^limits\[(\d+)\]\.([a-z_]+)$/.exec(name);
    const field = match?.[2] as LimitField | undefined;
    if (match && Number(match[1]) < rows && field && limitFields.includes(field)) byInput.set(inputKey(Number(match[1]), field), messages);
    else general.push([name, messages]);
  }
  return { byInput, general };
}
