import Decimal from "decimal.js";
import type { components } from "../api/generated/billing";

export type TeamStatement = components["schemas"]["TeamStatementView"];
export type StatementAmounts = components["schemas"]["StatementAmounts"];

/** A team of the statement in its tree: depth for indenting, and whether its rolled-up cost adds up. */
export type TeamNode = {
  team: TeamStatement;
  depth: number;
  children: string[];
  /** The sum of its own amounts and its children's rolled-up amounts, computed here with decimal.js. */
  computed: StatementAmounts;
  /** True when the API's `rolled_up` equals `computed` in every amount. */
  consistent: boolean;
};

const amountKeys = ["direct_cost", "corrections", "idle_cost", "total"] as const;

const add = (a: StatementAmounts, b: StatementAmounts): StatementAmounts => {
  const sum = {} as StatementAmounts;
  for (const key of amountKeys) sum[key] = new Decimal(a[key]).plus(b[key]).toFixed(2);
  return sum;
};
const same = (a: StatementAmounts, b: StatementAmounts): boolean => amountKeys.every((key) => new Decimal(a[key]).equals(b[key]));

/**
 * The statement's teams as a tree in display order (each parent before its children, siblings by id). A team whose
 * parent is not in the statement (a viewer sees its team and the teams below it) is a root. Each node's roll-up is
 * recomputed from its own amounts and its children's, so the page can show that the API's roll-up adds up.
 */
export function chargebackTree(teams: readonly TeamStatement[]): TeamNode[] {
  const byId = new Map(teams.map((t) => [t.team, t]));
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const t of teams) {
    if (t.parent !== null && t.parent !== t.team && byId.has(t.parent)) {
      const list = children.get(t.parent) ?? [];
      list.push(t.team);
      children.set(t.parent, list);
    } else roots.push(t.team);
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  roots.sort(byName);
  for (const list of children.values()) list.sort(byName);

  const nodes = new Map<string, TeamNode>();
  const order: TeamNode[] = [];
  const visiting = new Set<string>();
  // Depth first: a node's place is before its children; its roll-up is known once they are done.
  const visit = (id: string, depth: number): StatementAmounts => {
    const team = byId.get(id)!;
    visiting.add(id);
    const node: TeamNode = { team, depth, children: [], computed: team.own, consistent: true };
    order.push(node);
    nodes.set(id, node);
    let computed = team.own;
    for (const child of children.get(id) ?? []) {
      if (visiting.has(child) || nodes.has(child)) continue;
      node.children.push(child);
      computed = add(computed, visit(child, depth + 1));
    }
    node.computed = computed;
    node.consistent = same(computed, team.rolled_up);
    visiting.delete(id);
    return team.rolled_up;
  };
  for (const root of roots) visit(root, 0);
  // Teams only reachable through a parent cycle (the API refuses cycles; a statement should hold none) still show.
  for (const t of teams) if (!nodes.has(t.team)) visit(t.team, 0);
  return order;
}

export type ExportFormat = "csv" | "focus";

/** The path of an export through the console host, which adds the session's token (so a plain link works too). */
export const exportPath = (period: string, format: ExportFormat, team?: string): string =>
  `/api/billing/v1/chargeback/${encodeURIComponent(period)}?format=${format}${team ? `&team=${encodeURIComponent(team)}` : ""}`;
