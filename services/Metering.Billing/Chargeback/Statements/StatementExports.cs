using System.Globalization;
using System.Text;
using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.Chargeback.Teams;
using Metering.Billing.Recording;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;

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
                    idle.GpuType, null, null, ChargebackStatement.Money(idle.Amount), statement.IdleInTotals ? "true" : "false"]));
        }
        return csv.ToString();
    }
}

/// <summary>
/// <c>?format=focus</c>: the month as a FinOps FOCUS 1.2 cost and usage file. Each row is one tenant's invoice line as
/// posted to one team: the billing account is the tenant, its invoice the <c>InvoiceId</c>, the team the sub-account,
/// so BilledCost summed per InvoiceId is the invoice's total. Late usage and voids of a finalized month are
/// <c>ChargeClass=Correction</c> with the charge period of the month they correct. Idle GPU capacity posted in
/// chargeback mode is an <c>Adjustment</c> on the platform's capacity account, with no invoice. A FOCUS file is data for
/// FinOps tools, not a spreadsheet: its values are written exactly as entered, none rewritten against formulas.
/// </summary>
public static class FocusExport
{
    public const string Issuer = "Metering";
    public const string CapacityAccount = "gpu-capacity";

    public static readonly string[] MandatoryColumns =
    [
        "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
        "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
        "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
    ];

    public static readonly string[] Columns =
    [
        .. MandatoryColumns, "InvoiceId", "ConsumedQuantity", "ConsumedUnit", "ListUnitPrice", "ContractedUnitPrice", "ChargeFrequency",
        "PricingCategory", "SubAccountId", "SubAccountName",
        "x_Tenant", "x_Team", "x_CostCenter", "x_ParentTeam", "x_Meter", "x_Model", "x_GpuType", "x_CorrectsPeriod", "x_ChargebackMode",
    ];

    public static string Write(ChargebackStatement statement)
    {
        var csv = new StringBuilder().AppendLine(Csv.Row(Columns));
        var (start, end) = Bounds(statement.Period);
        foreach (var (tenant, line) in statement.Lines.OrderBy(l => l.Tenant, StringComparer.Ordinal).ThenBy(l => l.Line.Team, StringComparer.Ordinal)
                     .ThenBy(l => l.Line.AdjustmentFor ?? "", StringComparer.Ordinal).ThenBy(l => l.Line.Meter, StringComparer.Ordinal)
                     .ThenBy(l => l.Line.Model ?? l.Line.GpuType, StringComparer.Ordinal).ThenBy(l => l.Line.UnitPrice, StringComparer.Ordinal))
        {
            var team = statement.Directory.Teams.GetValueOrDefault(line.Team);
            var (chargeStart, chargeEnd) = line.AdjustmentFor is { } corrected ? Bounds(corrected) : (start, end);
            var unit = PriceUnits.Of(line.Meter);
            var cost = Csv.Number(line.Amount);
            var isCorrection = line.AdjustmentFor is not null;
            csv.AppendLine(Csv.Row(
            [
                cost, tenant, tenant, GetCurrency, end, start, "Usage", isCorrection ? "Correction" : null, Description(line), chargeEnd, chargeStart,
                cost, cost, Issuer, cost, Csv.Number(line.Quantity / unit), PricingUnit(line.Meter), Issuer, Publisher(line), "AI and Machine Learning",
                ServiceName(line.Meter),
                // Usage no rate card prices is listed at 0, what it is billed.
                $"{tenant}/{statement.Period}", Csv.Number(line.Quantity), ConsumedUnit(line.Meter), line.UnitPrice ?? "0", line.UnitPrice ?? "0", "Usage-Based",
                "Standard", line.Team, team?.Name ?? line.Team,
                tenant, line.Team, team?.CostCenter, team?.Parent, line.Meter, line.Model, line.GpuType, line.AdjustmentFor, statement.Capacity?.Mode,
            ]));
        }
        if (statement.IdleInTotals)
            foreach (var share in statement.IdleShares.OrderBy(s => s.Team, StringComparer.Ordinal).ThenBy(s => s.GpuType, StringComparer.Ordinal))
            {
                var team = statement.Directory.Teams.GetValueOrDefault(share.Team);
                var cost = Csv.Number(share.Amount);
                csv.AppendLine(Csv.Row(
                [
                    cost, CapacityAccount, "GPU capacity", GetCurrency, end, start, "Adjustment", null,
                    $"Idle {share.GpuType} capacity of {statement.Period}, allocated by metered GPU use", end, start,
                    cost, cost, Issuer, cost, null, null, Issuer, Issuer, "AI and Machine Learning", "GPU Compute",
                    null, null, null, null, null, "Recurring", null, share.Team, team?.Name ?? share.Team,
                    null, share.Team, team?.CostCenter, team?.Parent, Meters.GpuSeconds, null, share.GpuType, null, statement.Capacity!.Mode,
                ]));
            }
        return csv.ToString();
    }

    private const string GetCurrency = Invoicing.GetInvoice.Currency;

    /// <summary>FOCUS date-times: UTC, <c>YYYY-MM-DDTHH:mm:ssZ</c>; a period's start is inclusive, its end exclusive.</summary>
    private static (string Start, string End) Bounds(string period)
    {
        BillingPeriod.TryParse(period, out var first);
        const string format = "yyyy-MM-dd'T'HH:mm:ss'Z'";
        return (first.ToDateTime(TimeOnly.MinValue).ToString(format, CultureInfo.InvariantCulture),
            first.AddMonths(1).ToDateTime(TimeOnly.MinValue).ToString(format, CultureInfo.InvariantCulture));
    }

    private static string Description(LedgerLine line)
    {
        var what = $"{line.Meter} of {line.Model ?? line.GpuType}";
        var price = line.UnitPrice is null ? "unpriced (no rate in effect)" : $"at {line.UnitPrice} USD per {PricingUnit(line.Meter)}";
        return line.AdjustmentFor is null ? $"{what}, {price}" : $"Correction of {line.AdjustmentFor}: {what}, {price}";
    }

    private static string PricingUnit(string meter) => Meters.IsTokenMeter(meter) ? "1000000 Tokens" : "Hours";

    private static string ConsumedUnit(string meter) => Meters.IsTokenMeter(meter) ? "Tokens" : "Seconds";

    private static string ServiceName(string meter) => Meters.IsTokenMeter(meter) ? "AI Inference" : "GPU Compute";

    /// <summary>The model's publisher is the part of its name before a slash (<c>meta/llama-4</c>), else the platform.</summary>
    private static string Publisher(LedgerLine line) => line.Model is { } model && model.IndexOf('/') is > 0 and var slash ? model[..slash] : Issuer;
}
