import { describe, expect, it } from "vitest";
import { readView, writeView } from "../src/lib/urlState";
import { spendViewSpec } from "../src/pages/spendExplorerView";

const spec = spendViewSpec("2026-11-20");

describe("URL state", () => {
  it("round-trips a view through its query string", () => {
    const state = { ...readView(spec, new URLSearchParams()), group_by: "model", granularity: "month", team: "nlp", from: "2026-10-01" };
    const query = writeView(spec, state).toString();
    expect(query).toBe("group_by=model&granularity=month&from=2026-10-01&team=nlp");
    expect(readView(spec, new URLSearchParams(query))).toEqual(state);
  });

  it("leaves defaults out of the URL", () => {
    expect(writeView(spec, readView(spec, new URLSearchParams())).toString()).toBe("");
    expect(readView(spec, new URLSearchParams())).toMatchObject({ group_by: "tenant", granularity: "day", from: "2026-11-01", to: "2026-11-20" });
  });

  it("reads a value outside its rule as the default", () => {
    const state = readView(spec, new URLSearchParams("group_by=colour&granularity=week&from=2026-13-40&to=yesterday"));
    expect(state).toMatchObject({ group_by: "tenant", granularity: "day", from: "2026-11-01", to: "2026-11-20" });
  });

  it("keeps filter text as typed, encoded", () => {
    const state = { ...readView(spec, new URLSearchParams()), model: "gpt 4o&x=1" };
    const query = writeView(spec, state).toString();
    expect(new URLSearchParams(query).get("model")).toBe("gpt 4o&x=1");
    expect(readView(spec, new URLSearchParams(query)).model).toBe("gpt 4o&x=1");
  });
});
