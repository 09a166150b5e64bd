import { describe, expect, it } from "vitest";
import { chargebackTree, exportPath, type StatementAmounts, type TeamStatement } from "../src/lib/chargebackTree";

const amounts = (direct: string, corrections = "0.00", idle = "0.00", total = direct): StatementAmounts => ({
  direct_cost: direct,
  corrections,
  idle_cost: idle,
  total,
});

const team = (id: string, parent: string | null, own: StatementAmounts, rolled_up: StatementAmounts = own): TeamStatement => ({
  team: id,
  name: id.toUpperCase(),
  cost_center: `cc-${id}`,
  parent,
  tenants: [],
  usage: [],
  own,
  rolled_up,
});

describe("the chargeback team tree", () => {
  it("orders each parent before its children, siblings by id, with their depth", () => {
    const nodes = chargebackTree([
      team("search", "platform", amounts("1.00")),
      team("platform", null, amounts("0.00"), amounts("3.00")),
      team("chat", "platform", amounts("2.00")),
      team("finance", null, amounts("5.00")),
    ]);
    expect(nodes.map((n) => [n.team.team, n.depth])).toEqual([
      ["finance", 0],
      ["platform", 0],
      ["chat", 1],
      ["search", 1],
    ]);
    expect(nodes.find((n) => n.team.team === "platform")?.children).toEqual(["chat", "search"]);
  });

  it("recomputes each roll-up exactly from own and children's rolled-up amounts", () => {
    const nodes = chargebackTree([
      team("root", null, amounts("0.10", "-0.05", "0.20", "0.25"), amounts("0.40", "-0.05", "0.50", "0.85")),
      team("mid", "root", amounts("0.10", "0.00", "0.30", "0.40"), amounts("0.30", "0.00", "0.30", "0.60")),
      team("leaf", "mid", amounts("0.20")),
    ]);
    expect(nodes.every((n) => n.consistent)).toBe(true);
    expect(nodes[0].computed).toEqual({ direct_cost: "0.40", corrections: "-0.05", idle_cost: "0.50", total: "0.85" });
  });

  it("flags a roll-up that does not add up", () => {
    const nodes = chargebackTree([team("root", null, amounts("1.00"), amounts("1.00")), team("child", "root", amounts("0.01"))]);
    expect(nodes.find((n) => n.team.team === "root")?.consistent).toBe(false);
    expect(nodes.find((n) => n.team.team === "child")?.consistent).toBe(true);
  });

  it("makes a team whose parent is outside the statement (a viewer's scope) a root, and never loops on a cycle", () => {
    const scoped = chargebackTree([
      team("voice", "platform", amounts("3.00")),
      team("chat-eu", "chat", amounts("1.00")),
      team("chat", "platform", amounts("2.00"), amounts("3.00", "0.00", "0.00", "3.00")),
    ]);
    expect(scoped.map((n) => [n.team.team, n.depth])).toEqual([
      ["chat", 0],
      ["chat-eu", 1],
      ["voice", 0],
    ]);
    expect(scoped.every((n) => n.consistent)).toBe(true);
    const cycle = chargebackTree([team("a", "b", amounts("1.00")), team("b", "a", amounts("1.00"))]);
    expect(cycle.map((n) => n.team.team).sort()).toEqual(["a", "b"]);
  });
});

describe("the chargeback downloads", () => {
  it("go through the host to the statement's CSV and FOCUS exports, narrowed to a viewer's team", () => {
    expect(exportPath("2026-11", "csv")).toBe("/api/billing/v1/chargeback/2026-11?format=csv");
    expect(exportPath("2026-11", "focus", "chat")).toBe("/api/billing/v1/chargeback/2026-11?format=focus&team=chat");
  });
});
