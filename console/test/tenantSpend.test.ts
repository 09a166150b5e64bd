import { describe, expect, it } from "vitest";
import { TenantSpend } from "../src/lib/tenantSpend";

const view = (series: { key: string | null; points: { date: string; cost: string }[] }[]) => ({
  currency: "USD",
  from: "2026-12-01",
  to: "2026-12-09",
  group_by: "tenant",
  granularity: "month",
  series,
  total: "0.00",
});

describe("TenantSpend", () => {
  it("gives each tenant its point's cost and a tenant without usage 0.00", () => {
    const spend = new TenantSpend(view([
      { key: "acme", points: [{ date: "2026-12", cost: "12.34" }] },
      { key: "beta", points: [{ date: "2026-12", cost: "-0.72" }] },
    ]));
    expect(spend.of("acme")).toBe("12.34");
    expect(spend.of("beta")).toBe("-0.72");
    expect(spend.of("idle")).toBe("0.00");
    expect(spend.currency).toBe("USD");
  });

  it("refuses a view spanning more than one month rather than show one of them", () => {
    expect(() => new TenantSpend(view([{ key: "acme", points: [{ date: "2026-11", cost: "1.00" }, { date: "2026-12", cost: "2.00" }] }]))).toThrow(/2 months/);
  });
});
