using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.Chargeback.Statements;
using Metering.Billing.Chargeback.Teams;
using Metering.Contracts.Usage;

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
        var rows = Rows(FocusExport.Write(Statement(name)));

        Assert.Equal(2, rows.Count);
        Assert.All(rows, row => Assert.Contains($",nlp,{name},", row)); // SubAccountId, SubAccountName
        Assert.DoesNotContain("'" + name, string.Join('\n', rows));
        Assert.Contains(rows, r => r.StartsWith("-1.20,", StringComparison.Ordinal));
    }

    [Fact]
    public void Plain_names_are_written_as_they_are_in_both()
    {
        Assert.All(Rows(StatementCsv.Write(Statement("Language team"))), row => Assert.Contains(",Language team,", row));
        Assert.All(Rows(FocusExport.Write(Statement("Language team"))), row => Assert.Contains(",Language team,", row));
    }
}
