import Decimal from "decimal.js";
import type { components } from "../api/generated/billing";

export type Price = components["schemas"]["RateCardPriceView"];
/** What a price is for: its meter and its model or GPU type (a version holds one price per such key). */
export type PriceFor = Pick<Price, "meter" | "model" | "gpu_type">;
export type PriceChange = PriceFor & { before: string; after: string };
export type RateCardDiff = { added: Price[]; removed: Price[]; changed: PriceChange[]; unchanged: number };

export const priceKey = (p: PriceFor): string => JSON.stringify([p.meter, p.model ?? null, p.gpu_type ?? null]);

const byKey = (a: PriceFor, b: PriceFor) => (priceKey(a) < priceKey(b) ? -1 : priceKey(a) > priceKey(b) ? 1 : 0);

/**
 * From one version's prices to another's: prices only in the newer (added), only in the older (removed), and those
 * whose amount differs (compared as decimals, so "0.6" and "0.60" are the same price), each list in key order.
 */
export function diffRateCards(older: readonly Price[], newer: readonly Price[]): RateCardDiff {
  const before = new Map(older.map((p) => [priceKey(p), p]));
  const after = new Map(newer.map((p) => [priceKey(p), p]));
  const diff: RateCardDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const [key, p] of after) {
    const was = before.get(key);
    if (!was) diff.added.push(p);
    else if (new Decimal(was.price).equals(p.price)) diff.unchanged++;
    else diff.changed.push({ meter: p.meter, model: p.model, gpu_type: p.gpu_type, before: was.price, after: p.price });
  }
  for (const [key, p] of before) if (!after.has(key)) diff.removed.push(p);
  diff.added.sort(byKey);
  diff.removed.sort(byKey);
  diff.changed.sort(byKey);
  return diff;
}

/** The unit a price is per, as PRODUCT §4 prices them: tokens per 1,000,000, GPU-seconds per GPU-hour. */
export const priceUnit = (meter: string): string => (meter === "gpu_seconds" ? "per GPU-hour" : "per 1M tokens");
