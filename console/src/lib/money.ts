import Decimal from "decimal.js";

/** Money and quantities arrive as decimal strings; they are added and rounded with decimal.js, never as floats. */
export type DecimalString = string;

const symbols: Record<string, string> = { USD: "$", EUR: "€", GBP: "£" };

function groupThousands(integer: string): string {
  return integer.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "1234.5" → "$1,234.50" (half-even to cents, as the API rounds); an unknown currency is written after the amount. */
export function formatMoney(amount: DecimalString | null | undefined, currency = "USD"): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const fixed = new Decimal(amount).toFixed(2, Decimal.ROUND_HALF_EVEN);
  const negative = fixed.startsWith("-");
  const [integer, cents] = (negative ? fixed.slice(1) : fixed).split(".");
  const body = `${groupThousands(integer)}.${cents}`;
  const symbol = symbols[currency];
  const text = symbol ? `${symbol}${body}` : `${body} ${currency}`;
  return negative ? `-${text}` : text;
}

/** A quantity as the API wrote it, with thousands grouped: "1234567.25" → "1,234,567.25". */
export function formatQuantity(quantity: DecimalString | number | null | undefined): string {
  if (quantity === null || quantity === undefined || quantity === "") return "—";
  const text = new Decimal(quantity).toFixed();
  const negative = text.startsWith("-");
  const [integer, fraction] = (negative ? text.slice(1) : text).split(".");
  const body = fraction ? `${groupThousands(integer)}.${fraction}` : groupThousands(integer);
  return negative ? `-${body}` : body;
}

/** The exact sum of decimal strings, as a string with two decimals: ["0.10", "0.20"] → "0.30". */
export function sumMoney(amounts: Iterable<DecimalString | null | undefined>): DecimalString {
  let total = new Decimal(0);
  for (const amount of amounts) if (amount !== null && amount !== undefined && amount !== "") total = total.plus(amount);
  return total.toFixed(2, Decimal.ROUND_HALF_EVEN);
}

/** Orders decimal strings (for "biggest first" lists) without converting them to floats. */
export function compareMoney(a: DecimalString, b: DecimalString): number {
  return new Decimal(a).comparedTo(b);
}

/** For drawing only: the chart library plots numbers. Never used for a number shown as text or added up. */
export function toPlotNumber(amount: DecimalString | null | undefined): number | null {
  return amount === null || amount === undefined || amount === "" ? null : new Decimal(amount).toNumber();
}
