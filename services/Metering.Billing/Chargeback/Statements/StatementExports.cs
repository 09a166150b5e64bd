using System.Text;
using Metering.Billing.Chargeback.Ledger;

namespace Metering.Billing.Chargeback.Statements;

/// <summary>CSV writing per RFC 4180: a field is quoted when it holds a comma, quote or line break; null is empty.</summary>
internal static class Csv
{
    /// <summary>A row of data: every value exactly as it is.</summary>
    public static string Row(IEnumerable<string?> fields) => string.Join(',', fields.Select(Quoted));

    /// <summary>
    /// A row for spreadsheets: text that a spreadsheet would run as a formula (a team named "=HYPERLINK(…)" or
    /// "-2+3+cmd|…") gets a leading apostrophe, which spreadsheets show as text. Numbers, negative ones too, stay numbers.
    /// </summary>
    public static string SpreadsheetRow(IEnumerable<string?> fields) => string.Join(',', fields.Select(f => Quoted(Inert(f))));

    public static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? Inert(string? value) =>
        value is { Length: > 0 } && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !IsNumber(value) ? "'" + value : value;

    private static bool IsNumber(string value) =>
        decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _);

    private static string Quoted(string? value)
    {
        if (value is null) return "";
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }
}

/// <summary>
/// <c>?format=csv</c>, for spreadsheets: one row per team and usage line, and one per team and GPU type of idle capacity.
/// </summary>
public static class StatementCsv
{
    public static readonly string[] Columns =
        ["period", "team", "team_name", "cost_center", "parent", "kind", "meter", "model", "gpu_type", "adjustment_for", "quantity", "amount", "in_total"];

    public static string Write(ChargebackStatement statement)
    {
        var view = statement.ToView(ledgerCurrent: true);
        var csv = new StringBuilder().AppendLine(Csv.SpreadsheetRow(Columns));
        foreach (var team in view.Teams)
        {
            foreach (var u in team.Usage)
                csv.AppendLine(Csv.SpreadsheetRow([view.Period, team.Team, team.Name, team.CostCenter, team.Parent, u.AdjustmentFor is null ? "usage" : "correction",
                    u.Meter, u.Model, u.GpuType, u.AdjustmentFor, Csv.Number(u.Quantity), u.Cost, "true"]));
            foreach (var idle in statement.IdleShares.Where(s => s.Team == team.Team).OrderBy(s => s.GpuType, StringComparer.Ordinal))
                csv.AppendLine(Csv.SpreadsheetRow([view.Period, team.Team, team.Name, team.CostCenter, team.Parent, $"idle_{view.Mode}", Meters.GpuSeconds, null,
                    idle.GpuType, null, null, Money.Format(idle.Amount), statement.IdleInTotals ? "true" : "false"]));
        }
        return csv.ToString();
    }
}
