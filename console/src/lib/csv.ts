/** A CSV file (RFC 4180) of a table: the header row, then the rows, exactly as the table shows them. */
export type CsvCell = string | number | null | undefined;

/**
 * One cell: a text a spreadsheet would run as a formula (starting with = + - @, tab or carriage return) gets a leading
 * apostrophe, unless it is a plain number such as "-12.50" (a refund or correction amount must stay a number);
 * a cell holding a comma, quote or line break is quoted with its quotes doubled.
 */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/** Offers the text as a file download, made in the browser from the data already on the page. */
export function downloadCsv(fileName: string, csv: string): void {
  const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}
