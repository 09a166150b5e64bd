import { describe, expect, it } from "vitest";
import { teamTree, type Team } from "../src/lib/teamTree";

const team = (id: string, parent: string | null, tenants: string[] = []): Team => ({ team: id, name: id.toUpperCase(), cost_center: `CC-${id}`, parent, tenants });

describe("team tree", () => {
  it("reads depth first, children in id order, with each team's path and depth", () => {
    const rows = teamTree([team("nlp", "ml"), team("ml", "platform"), team("vision", "ml"), team("platform", null, ["acme"]), team("finance", null)]);
    expect(rows.map((r) => [r.path.join(" / "), r.depth])).toEqual([
      ["finance", 0],
      ["platform", 0],
      ["platform / ml", 1],
      ["platform / ml / nlp", 2],
      ["platform / ml / vision", 2],
    ]);
    expect(rows[1].tenants).toEqual(["acme"]);
  });

  it("shows a team whose parent is missing as an orphan root", () => {
    const rows = teamTree([team("a", "gone"), team("b", "a")]);
    expect(rows.map((r) => [r.team, r.depth, r.orphan])).toEqual([["a", 0, true], ["b", 1, false]]);
  });

  it("lists every team of a cycle once instead of looping", () => {
    const rows = teamTree([team("x", "y"), team("y", "x"), team("root", null)]);
    expect(rows.map((r) => r.team).sort()).toEqual(["root", "x", "y"]);
    expect(rows).toHaveLength(3);
  });
});
