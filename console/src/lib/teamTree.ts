import type { components } from "../api/generated/billing";

export type Team = components["schemas"]["TeamView"];
/** A team in the tree's reading order: its depth below its root and its path from the root ("platform / ml / nlp"). */
export type TeamRow = Team & { depth: number; path: string[]; orphan: boolean };

/**
 * The teams as a tree, flattened depth first (children in id order), for a table. A team whose parent is not in the
 * list starts a tree of its own, marked orphan; a team on a cycle (which the API refuses to build) still appears once,
 * as a root, so a bad answer can never hang the page.
 */
export function teamTree(teams: readonly Team[]): TeamRow[] {
  const byId = new Map(teams.map((t) => [t.team, t]));
  const children = new Map<string, Team[]>();
  for (const t of teams) if (t.parent && byId.has(t.parent) && t.parent !== t.team) children.set(t.parent, [...(children.get(t.parent) ?? []), t]);
  const order = (list: readonly Team[]) => [...list].sort((a, b) => (a.team < b.team ? -1 : a.team > b.team ? 1 : 0));

  const rows: TeamRow[] = [];
  const placed = new Set<string>();
  const visit = (team: Team, depth: number, path: string[], orphan: boolean) => {
    if (placed.has(team.team)) return;
    placed.add(team.team);
    const here = [...path, team.team];
    rows.push({ ...team, depth, path: here, orphan });
    for (const child of order(children.get(team.team) ?? [])) visit(child, depth + 1, here, false);
  };
  for (const t of order(teams)) if (!t.parent || t.parent === t.team) visit(t, 0, [], false);
  for (const t of order(teams)) if (t.parent && !byId.has(t.parent)) visit(t, 0, [], true);
  for (const t of order(teams)) visit(t, 0, [], false);
  return rows;
}
