import { describe, expect, it } from "vitest";
import { readAllPages, type KeysetPage } from "../src/lib/keysetPages";

/** A list of `total` numbered rows behind a keyset API: the cursor is the last row's number. */
function list(total: number) {
  const asked: { cursor?: string; limit: number }[] = [];
  const read = async (cursor: string | undefined, limit: number): Promise<KeysetPage<number>> => {
    asked.push({ cursor, limit });
    const start = cursor === undefined ? 0 : Number(cursor) + 1;
    const rows = Array.from({ length: Math.max(0, Math.min(limit, total - start)) }, (_, i) => start + i);
    return { rows, next: start + rows.length < total ? String(rows[rows.length - 1]) : null };
  };
  return { read, asked };
}

describe("reading every page of a keyset list", () => {
  it("hands over a small first page, then big pages, each with every row so far, complete at the last", async () => {
    const { read, asked } = list(2_350);
    const seen: [number, boolean][] = [];
    await readAllPages(read, (rows, complete) => seen.push([rows.length, complete]), new AbortController().signal);
    expect(seen).toEqual([[100, false], [1_100, false], [2_100, false], [2_350, true]]);
    expect(asked).toEqual([{ cursor: undefined, limit: 100 }, { cursor: "99", limit: 1000 }, { cursor: "1099", limit: 1000 }, { cursor: "2099", limit: 1000 }]);
  });

  it("keeps the rows in the API's order, none twice", async () => {
    const { read } = list(1_250);
    let last: readonly number[] = [];
    await readAllPages(read, (rows) => (last = rows), new AbortController().signal, { first: 7, rest: 300 });
    expect(last).toEqual(Array.from({ length: 1_250 }, (_, i) => i));
  });

  it("is complete at once for a list of one page, and for an empty one", async () => {
    for (const total of [0, 40]) {
      const seen: [number, boolean][] = [];
      await readAllPages(list(total).read, (rows, complete) => seen.push([rows.length, complete]), new AbortController().signal);
      expect(seen).toEqual([[total, true]]);
    }
  });

  it("stops reading once aborted", async () => {
    const { read, asked } = list(5_000);
    const abort = new AbortController();
    await readAllPages(read, (rows) => rows.length >= 1_100 && abort.abort(), abort.signal);
    expect(asked).toHaveLength(2);
  });
});
