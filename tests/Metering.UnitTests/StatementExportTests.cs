using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.Chargeback.Statements;
using Metering.Billing.Chargeback.Teams;

namespace Metering.UnitTests;

/// <summary>
/// The chargeback CSV is opened in spreadsheets, so text that a spreadsheet would run as a formula is neutralised;
/// the FOCUS file is data for FinOps tools and keeps every value exactly as entered.
/// </summary>
public class StatementExportTests
{
    private const string Formula = "-2+3+cmd|' /C calc'!A0";

    private static ChargebackStatement Statement(string teamName)
    {
        var at = DateTimeOffset.UnixEpoch;
        var directory = TeamDirectory.Empty
            .Apply(new TeamDefined("nlp", teamName, "CC-1", null, at, "admin"))
            .Apply(new TenantTeamAssigned("chat", "nlp", at, "admin"));
        var balance = new LedgerBalance
        {
            Id = "usage:chat:2026-10", Tenant = "chat", Month = "2026-10",
            Lines =
            [
                new LedgerLine("nlp", Meters.OutputTokens, "llama", null, "2.40", null, 1_000_000, 2.40m),
                new LedgerLine("nlp", Meters.OutputTokens, "llama", null, "2.40", "2026-09", -500_000, -1.20m),
            ],
        };
        return new ChargebackStatement("2026-10", [balance], null, directory, null);
    }

    private static List<string> Rows(string csv) => csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => r.TrimEnd('\r')).Skip(1).ToList();

    [Theory]
    [InlineData(Formula)]
    [InlineData("=HYPERLINK(\"http://x\")")]
    [InlineData("+1+1")]
    [InlineData("@SUM(A1)")]
    public void The_spreadsheet_csv_writes_formula_text_with_a_leading_apostrophe_and_keeps_negative_amounts_numbers(string name)
    {
        var rows = Rows(StatementCsv.Write(Statement(name)));

        // RFC 4180 still applies: a value holding a quote is quoted, its quotes doubled.
        var written = name.Contains('"') ? $"\"'{name.Replace("\"", "\"\"")}\"" : "'" + name;
        Assert.Equal(2, rows.Count);
        Assert.All(rows, row => Assert.Contains($",{written},", row));
        var correction = Assert.Single(rows, r => r.Contains(",correction,"));
        Assert.EndsWith(",-500000,-1.20,true", correction);
    }

    [Theory]
    [InlineData(Formula)]
    [InlineData("=HYPERLINK(x)")]
    [InlineData("@SUM(A1)")]
    public void The_focus_file_keeps_every_value_exactly_as_entered(string name)
    {
        var rows = Rows(FocusExport.Write(Statement(name), null));

        Assert.Equal(2, rows.Count);
        Assert.All(rows, row => Assert.Contains($",nlp,{name},", row)); // SubAccountId, SubAccountName
        Assert.DoesNotContain("'" + name, string.Join('\n', rows));
        Assert.Contains(rows, r => r.StartsWith("-1.20,", StringComparison.Ordinal));
    }

    [Fact]
    public void Plain_names_are_written_as_they_are_in_both()
    {
        Assert.All(Rows(StatementCsv.Write(Statement("Language team"))), row => Assert.Contains(",Language team,", row));
        Assert.All(Rows(FocusExport.Write(Statement("Language team"), null)), row => Assert.Contains(",Language team,", row));
    }

    /// <summary>
    /// FOCUS: ListCost and ContractedCost are the unit price × PricingQuantity, unrounded (GPU hours of seconds ÷ 3600 kept
    /// to 12 decimals); BilledCost and EffectiveCost stay the posted amounts; unpriced usage has no row (no 0 list price).
    /// </summary>
    [Fact]
    public void Focus_list_and_contracted_costs_are_the_unit_price_times_the_pricing_quantity_and_unpriced_usage_has_no_row()
    {
        var balance = new LedgerBalance
        {
            Id = "usage:chat:2026-10", Tenant = "chat", Month = "2026-10",
            Lines =
            [
                new LedgerLine("nlp", Meters.OutputTokens, "llama", null, "2.40", null, 1_234_567, 2.96m),
                new LedgerLine("nlp", Meters.GpuSeconds, null, "h200", "4.00", null, 100.5m, 0.11m),
                new LedgerLine("nlp", Meters.InputTokens, "secret-model", null, null, null, 5_000, 0m),
            ],
        };
        var statement = new ChargebackStatement("2026-10", [balance], null, TeamDirectory.Empty, null);
        var lines = FocusExport.Write(statement, null).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => Fields(r.TrimEnd('\r'))).ToList();
        var header = lines[0].ToList();
        var rows = lines.Skip(1).Select(r => header.Zip(r).ToDictionary(p => p.First, p => p.Second)).ToList();

        Assert.Equal(2, rows.Count);
        var tokens = rows.Single(r => r["x_Meter"] == Meters.OutputTokens);
        Assert.Equal(("2.96", "2.96", "1.234567", "2.40", "2.9629608", "2.9629608"),
            (tokens["BilledCost"], tokens["EffectiveCost"], tokens["PricingQuantity"], tokens["ListUnitPrice"], tokens["ListCost"], tokens["ContractedCost"]));
        var gpu = rows.Single(r => r["x_Meter"] == Meters.GpuSeconds);
        Assert.Equal(("0.11", "0.027916666667", "0.111666666668"), (gpu["BilledCost"], gpu["PricingQuantity"], gpu["ListCost"]));
        Assert.Equal(("GPU Time", "gpu_seconds:h200", "Generative AI"), (gpu["SkuMeter"], gpu["SkuId"], gpu["ServiceSubcategory"]));
    }

    /// <summary>One RFC 4180 row's fields (the rows here hold no line breaks).</summary>
    private static List<string> Fields(string row)
    {
        var fields = new List<string> { "" };
        var quoted = false;
        for (var i = 0; i < row.Length; i++)
        {
            if (row[i] == '"' && quoted && i + 1 < row.Length && row[i + 1] == '"') { fields[^1] += '"'; i++; }
            else if (row[i] == '"') quoted = !quoted;
            else if (row[i] == ',' && !quoted) fields.Add("");
            else fields[^1] += row[i];
        }
        return fields;
    }
}
