import { describe, expect, it } from "vitest";
import { csvCell, toCsv } from "../src/lib/csv";
import { spendCsvHeader, spendCsvRows, spendRows, type Spend } from "../src/lib/spendView";

describe("csv", () => {
  it("quotes commas, quotes and line breaks", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell(null)).toBe("");
  });

  it("neutralises cells a spreadsheet would run as formulas", () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell("+1+1")).toBe("'+1+1");
    expect(csvCell("-cmd")).toBe("'-cmd");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\tx")).toBe("'\tx");
  });

  it("keeps negative amounts numbers", () => {
    expect(csvCell("-12.50")).toBe("-12.50");
    expect(csvCell("-3")).toBe("-3");
  });

  it("ends every line with CRLF", () => {
    expect(toCsv(["a", "b"], [["1", "2"]])).toBe("a,b\r\n1,2\r\n");
  });

  it("writes exactly the numbers of the spend table", () => {
    const spend: Spend = {
      currency: "USD",
      from: "2026-11-01",
      to: "2026-11-02",
      group_by: "tenant",
      granularity: "day",
      total: "3.35",
      series: [
        { key: "=evil", points: [{ date: "2026-11-01", quantity: "10", cost: "0.10" }] },
        {
          key: "acme, inc",
          points: [
            { date: "2026-11-01", quantity: "1000.5", cost: "1.00" },
            { date: "2026-11-02", quantity: 2, cost: "2.25" },
          ],
        },
        { key: null, points: [{ date: "2026-11-02", cost: "0.00" }] },
      ],
    };
    const rows = spendRows(spend);
    expect(rows.map((r) => r.key)).toEqual(["acme, inc", "acme, inc", "=evil", "(none)"]);
    const csv = toCsv(spendCsvHeader, spendCsvRows(rows));
    expect(csv).toBe(
      "group,date (UTC),quantity,cost\r\n" +
        '"acme, inc",2026-11-01,1000.5,1.00\r\n' +
        '"acme, inc",2026-11-02,2,2.25\r\n' +
        "'=evil,2026-11-01,10,0.10\r\n" +
        "(none),2026-11-02,,0.00\r\n",
    );
    const costs = csv.trim().split("\r\n").slice(1).map((line) => line.split(",").at(-1));
    expect(costs).toEqual(rows.map((r) => r.cost));
  });
});
