import { describe, expect, it } from "vitest";
import { problemOf } from "../src/api/problem";

describe("problem+json", () => {
  it("keeps the title, detail and every field's errors", () => {
    const problem = problemOf(400, { title: "One or more validation errors occurred.", detail: "see errors", errors: { from: ["must be a date"], "limits[0].limit": ["must be ≥ 0"] } });
    expect(problem).toEqual({ status: 400, title: "One or more validation errors occurred.", detail: "see errors", errors: { from: ["must be a date"], "limits[0].limit": ["must be ≥ 0"] } });
  });

  it("still has a title when the answer is not problem+json", () => {
    expect(problemOf(502, undefined, "Bad Gateway")).toEqual({ status: 502, title: "Bad Gateway", detail: undefined, errors: {} });
    expect(problemOf(503, "<html>", "")).toMatchObject({ title: "Request failed (503)" });
    expect(problemOf(0, undefined).title).toBe("The console could not be reached");
  });
});
