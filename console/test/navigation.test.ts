import { describe, expect, it } from "vitest";
import { safeNext } from "../src/lib/navigation";

describe("after sign-in", () => {
  it("returns to the page the user came from, with its view state", () => {
    expect(safeNext("/spend?group_by=model&from=2026-11-01")).toBe("/spend?group_by=model&from=2026-11-01");
    expect(safeNext("/tenants/acme")).toBe("/tenants/acme");
  });

  it("never leaves the console", () => {
    for (const next of [null, "", "https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "spend"])
      expect(safeNext(next)).toBe("/");
  });
});
