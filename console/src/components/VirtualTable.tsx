import { useEffect, useRef } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import { TableHead, type Column } from "./DataTable";

/** Every body row's height in pixels; the stylesheet gives `.virtual-table tbody tr` the same. */
const rowHeight = 33;

/**
 * A table of any number of rows that renders only those in its scroll box (and a few around them): 10,000 tenants
 * cost what 40 do. It stays a real table: the caption, the header row (sticky), `aria-rowcount` for all rows and
 * `aria-rowindex` on each rendered one; the space of the rows not rendered is two `aria-hidden` spacer rows.
 * `onRowsShown` gets the keys of the rendered rows, in order, whenever they change (to load their per-row data).
 */
export function VirtualTable<T>({ caption, columns, rows, rowKey, rowBusy, onRowsShown, empty = "Nothing in this view." }: {
  caption: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  rowBusy?: (row: T) => boolean;
  onRowsShown?: (keys: string[]) => void;
  empty?: string;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 8,
  });
  const items = virtualizer.getVirtualItems();
  const keys = items.map((item) => rowKey(rows[item.index]));
  const shown = keys.join("\n");
  useEffect(() => {
    onRowsShown?.(keys);
    // Only when the rendered rows change, not on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shown]);

  const above = items.length > 0 ? items[0].start : 0;
  const below = items.length > 0 ? virtualizer.getTotalSize() - items[items.length - 1].end : 0;
  return (
    <div className="table-wrap virtual-table" ref={scroller}>
      <table role="table" aria-rowcount={rows.length + 1}>
        <caption>{caption}</caption>
        <TableHead columns={columns} rowIndex={1} />
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length}>{empty}</td>
            </tr>
          ) : (
            <>
              {above > 0 && (
                <tr aria-hidden="true" className="spacer">
                  <td colSpan={columns.length} style={{ height: above }} />
                </tr>
              )}
              {items.map((item) => {
                const row = rows[item.index];
                return (
                  <tr key={keys[item.index - items[0].index]} aria-rowindex={item.index + 2} aria-busy={rowBusy?.(row) || undefined}>
                    {columns.map((column) => (
                      <td key={column.header} className={column.numeric ? "num" : undefined}>
                        {column.cell(row)}
                      </td>
                    ))}
                  </tr>
                );
              })}
              {below > 0 && (
                <tr aria-hidden="true" className="spacer">
                  <td colSpan={columns.length} style={{ height: below }} />
                </tr>
              )}
            </>
          )}
        </tbody>
      </table>
    </div>
  );
}
