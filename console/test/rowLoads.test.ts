import { describe, expect, it } from "vitest";
import { RowLoads } from "../src/lib/rowLoads";

/** Loads that resolve only when the test says so, recording which keys were started. */
function controlled() {
  const started: string[] = [];
  const pending = new Map<string, { resolve: (v: string) => void; reject: (e: unknown) => void }>();
  const load = (key: string) =>
    new Promise<string>((resolve, reject) => {
      started.push(key);
      pending.set(key, { resolve, reject });
    });
  const settle = async (key: string, error?: unknown) => {
    const p = pending.get(key)!;
    pending.delete(key);
    if (error === undefined) p.resolve(`data of ${key}`);
    else p.reject(error);
    await new Promise((r) => setTimeout(r, 0));
  };
  return { load, started, settle };
}

describe("per-row loads of a virtualised list", () => {
  it("runs at most the concurrency at a time, in the order asked", async () => {
    const { load, started, settle } = controlled();
    const loads = new RowLoads(load, 2);
    loads.want(["a", "b", "c", "d"]);
    expect(started).toEqual(["a", "b"]);
    await settle("b");
    expect(started).toEqual(["a", "b", "c"]);
    expect(loads.get("b")).toEqual({ state: "ok", data: "data of b" });
    expect(loads.get("c")).toEqual({ state: "loading" });
    expect(loads.counts()).toEqual({ done: 1, running: 2, waiting: 1 });
  });

  it("drops rows scrolled away before their turn and loads the rows now in view first", async () => {
    const { load, started, settle } = controlled();
    const loads = new RowLoads(load, 1);
    loads.want(["a", "b", "c"]);
    loads.want(["x", "y", "a"]);
    await settle("a");
    await settle("x");
    await settle("y");
    expect(started).toEqual(["a", "x", "y"]);
    expect(loads.counts()).toEqual({ done: 3, running: 0, waiting: 0 });
  });

  it("loads a key once, kept, and notifies subscribers on every end, an error included", async () => {
    const { load, started, settle } = controlled();
    const loads = new RowLoads(load, 4);
    let notified = 0;
    loads.subscribe(() => notified++);
    loads.want(["a", "b"]);
    await settle("a");
    await settle("b", { problem: { title: "Forbidden", status: 403 } });
    loads.want(["a", "b"]);
    expect(started).toEqual(["a", "b"]);
    expect(notified).toBe(2);
    expect(loads.snapshot()).toBe(2);
    expect(loads.get("b")).toEqual({ state: "error", title: "Forbidden (403)" });
  });

  it("starts nothing and records nothing once closed", async () => {
    const { load, started, settle } = controlled();
    const loads = new RowLoads(load, 1);
    loads.want(["a", "b"]);
    loads.close();
    await settle("a");
    expect(started).toEqual(["a"]);
    expect(loads.get("a")).toEqual({ state: "loading" });
  });
});
