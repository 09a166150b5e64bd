import { describe, expect, it } from "vitest";
import { isDate, isPeriod, lastDayOf, utcDate, utcMoment } from "../src/lib/dates";

describe("UTC dates", () => {
  it("takes the calendar day in UTC, not the browser's zone", () => {
    expect(utcDate(new Date("2026-11-30T23:30:00-05:00"))).toBe("2026-12-01");
  });

  it("ends the current month today and a past month on its last day", () => {
    expect(lastDayOf("2026-11", "2026-11-20")).toBe("2026-11-20");
    expect(lastDayOf("2026-10", "2026-11-20")).toBe("2026-10-31");
    expect(lastDayOf("2028-02", "2026-11-20")).toBe("2028-02-29");
  });

  it("accepts only real dates and months", () => {
    expect(isDate("2026-02-28")).toBe(true);
    expect(isDate("2026-13-01")).toBe(false);
    expect(isDate("2026-02-30")).toBe(false);
    expect(isDate("20261101")).toBe(false);
    expect(isPeriod("2026-11")).toBe(true);
    expect(isPeriod("2026-00")).toBe(false);
  });

  it("shows a moment in UTC", () => {
    expect(utcMoment("2026-11-20T15:03:07.123+01:00")).toBe("2026-11-20 14:03:07 UTC");
    expect(utcMoment(null)).toBe("—");
  });
});
