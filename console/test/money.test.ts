import { describe, expect, it } from "vitest";
import { compareMoney, formatMoney, formatQuantity, sumMoney } from "../src/lib/money";

describe("money", () => {
  it("adds decimal strings exactly, where floats drift", () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(sumMoney(["0.10", "0.20"])).toBe("0.30");
    expect(sumMoney(Array.from({ length: 1000 }, () => "0.01"))).toBe("10.00");
    expect(sumMoney(["9007199254740993.01", "0.02"])).toBe("9007199254740993.03");
  });

  it("sums nothing to zero and skips absent amounts", () => {
    expect(sumMoney([])).toBe("0.00");
    expect(sumMoney(["1.5", null, undefined, ""])).toBe("1.50");
  });

  it("formats with the currency, two decimals and grouped thousands", () => {
    expect(formatMoney("1234567.5")).toBe("$1,234,567.50");
    expect(formatMoney("0")).toBe("$0.00");
    expect(formatMoney("-12.3")).toBe("-$12.30");
    expect(formatMoney("999.99", "EUR")).toBe("€999.99");
    expect(formatMoney("5", "CHF")).toBe("5.00 CHF");
    expect(formatMoney(null)).toBe("—");
  });

  it("rounds half to even, as the API does", () => {
    expect(formatMoney("0.125")).toBe("$0.12");
    expect(formatMoney("0.135")).toBe("$0.14");
  });

  it("formats quantities without losing digits", () => {
    expect(formatQuantity("1234567.000001")).toBe("1,234,567.000001");
    expect(formatQuantity("-1000")).toBe("-1,000");
  });

  it("orders amounts as decimals, not as text", () => {
    expect(compareMoney("9.00", "10.00")).toBeLessThan(0);
    expect(compareMoney("10.00", "10")).toBe(0);
  });
});
