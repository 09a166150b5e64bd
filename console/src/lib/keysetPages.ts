/** A page of a keyset-paged list as the APIs answer it: its rows and, while more follow, the cursor of the next page. */
export type KeysetPage<T> = { rows: T[]; next?: string | null };

/**
 * Reads every page of a keyset-paged list in order: a small first page (shown at once), then big ones, each handed to
 * `onRows` with every row so far and whether the list is complete. Stops when the signal aborts (filters changed,
 * page left); a failed page ends the reading with its error, the rows so far staying shown.
 */
export async function readAllPages<T>(
  read: (cursor: string | undefined, limit: number, signal: AbortSignal) => Promise<KeysetPage<T>>,
  onRows: (rows: readonly T[], complete: boolean) => void,
  signal: AbortSignal,
  { first = 100, rest = 1000 }: { first?: number; rest?: number } = {},
): Promise<void> {
  let rows: T[] = [];
  let cursor: string | undefined;
  let limit = first;
  for (;;) {
    const page = await read(cursor, limit, signal);
    if (signal.aborted) return;
    rows = rows.concat(page.rows);
    cursor = page.next ?? undefined;
    onRows(rows, cursor === undefined);
    if (cursor === undefined || signal.aborted) return;
    limit = rest;
  }
}
