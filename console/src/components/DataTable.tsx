import { useState, type ReactNode } from "react";

export type Column<T> = { header: string; cell: (row: T) => ReactNode; numeric?: boolean };

/** The header row of a table of columns (the virtualised table numbers it as the first row). */
export function TableHead<T>({ columns, rowIndex }: { columns: readonly Column<T>[]; rowIndex?: number }) {
  return (
    <thead>
      <tr aria-rowindex={rowIndex}>
        {columns.map((column) => (
          <th key={column.header} scope="col" className={column.numeric ? "num" : undefined}>
            {column.header}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/**
 * The table under every chart (same numbers) and every list: a real table, with its caption. A long view shows its
 * first rows and offers the rest a batch at a time, so a month of 10,000 tenants does not build 300,000 rows at once.
 */
export function DataTable<T>({ caption, columns, rows, rowKey, empty = "Nothing in this view.", batch = 1000 }: {
  caption: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T, index: number) => string;
  empty?: string;
  batch?: number;
}) {
  const [shown, setShown] = useState(batch);
  const visible = rows.length > shown ? rows.slice(0, shown) : rows;
  return (
    <div className="table-wrap">
      <table role="table">
        <caption>{caption}</caption>
        <TableHead columns={columns} />
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length}>{empty}</td>
            </tr>
          ) : (
            visible.map((row, index) => (
              <tr key={rowKey(row, index)}>
                {columns.map((column) => (
                  <td key={column.header} className={column.numeric ? "num" : undefined}>
                    {column.cell(row)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
      {visible.length < rows.length && (
        <p className="more">
          {visible.length.toLocaleString("en-US")} of {rows.length.toLocaleString("en-US")} rows shown.{" "}
          <button type="button" onClick={() => setShown(shown + batch)}>
            Show {Math.min(batch, rows.length - visible.length).toLocaleString("en-US")} more
          </button>
        </p>
      )}
    </div>
  );
}
