using System.Numerics;
using System.Text;
using System.Text.Json;
using Metering.Billing.Chargeback.Ledger;

namespace Metering.Billing.Chargeback.Statements;

/// <summary>
/// <c>?format=focus</c>: the month as a FinOps FOCUS 1.2 cost and usage file. Each row is one tenant's invoice line as
/// posted to one team: the billing account is the tenant, its invoice the <c>InvoiceId</c>, the team the sub-account,
/// so BilledCost summed per InvoiceId is the invoice's total. <c>BilledCost</c> and <c>EffectiveCost</c> are the posted
/// (rounded) amounts; <c>ListCost</c> and <c>ContractedCost</c> are the rate card's price × <c>PricingQuantity</c>,
/// unrounded. The rate card is the price list: a SKU is a meter's model or GPU type, priced on one standard term.
/// Late usage and voids of a finalized month are <c>ChargeClass=Correction</c> with the
/// charge period of the month they correct. Usage no rate card prices is not in the file (FOCUS requires a list price
/// on every usage row; reconciliation reports it). Idle GPU capacity posted in chargeback mode is an
/// <c>Adjustment</c> on the platform's capacity account, with no invoice. A FOCUS file is data for FinOps tools, not a
/// spreadsheet: its values are written exactly as entered, none rewritten against formulas.
/// </summary>
public static class FocusExport
{
    public const string Issuer = "Metering";
    public const string CapacityAccount = "gpu-capacity";

    /// <summary>Two kinds of billing account, so FOCUS wants <c>BillingAccountType</c>: a tenant, or the platform's capacity.</summary>
    public const string TenantAccount = "Tenant", CapacityAccountType = "Platform GPU capacity";
    public const string ServiceCategory = "AI and Machine Learning";
    public const string ServiceSubcategory = "Generative AI";

    /// <summary>Hours of GPU time do not divide evenly (seconds ÷ 3600): pricing quantities keep this many decimals.</summary>
    public const int PricingQuantityDecimals = 12;

    public static readonly string[] MandatoryColumns =
    [
        "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
        "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
        "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    ];

    public static readonly string[] Columns =
    [
        .. MandatoryColumns, "BillingAccountType", "InvoiceId", "ConsumedQuantity", "ConsumedUnit", "ListUnitPrice", "ContractedUnitPrice", "ChargeFrequency",
        "PricingCategory", "SubAccountId", "SubAccountName", "SkuId", "SkuPriceId", "SkuMeter", "SkuPriceDetails",
        "x_Tenant", "x_Team", "x_CostCenter", "x_ParentTeam", "x_Meter", "x_Model", "x_GpuType", "x_CorrectsPeriod", "x_ChargebackMode",
        "x_RateCardVersion",
    ];

    public static string Write(ChargebackStatement statement, RateCardHistory? rateCards)
    {
        var csv = new StringBuilder().AppendLine(Csv.Row(Columns));
        var (start, end) = Bounds(statement.Period);
        foreach (var (tenant, line) in statement.Lines.Where(l => l.Line.UnitPrice is not null)
                     .OrderBy(l => l.Tenant, StringComparer.Ordinal).ThenBy(l => l.Line.Team, StringComparer.Ordinal)
                     .ThenBy(l => l.Line.AdjustmentFor ?? "", StringComparer.Ordinal).ThenBy(l => l.Line.Meter, StringComparer.Ordinal)
                     .ThenBy(l => l.Line.Model ?? l.Line.GpuType, StringComparer.Ordinal).ThenBy(l => l.Line.UnitPrice, StringComparer.Ordinal))
        {
            var team = statement.Directory.Teams.GetValueOrDefault(line.Team);
            var (chargeStart, chargeEnd) = line.AdjustmentFor is { } corrected ? Bounds(corrected) : (start, end);
            var price = line.UnitPrice!;
            var pricingQuantity = Math.Round(line.Quantity / PriceUnits.Of(line.Meter), PricingQuantityDecimals, MidpointRounding.ToEven);
            var listCost = ExactDecimal.Product(decimal.Parse(price, CultureInfo.InvariantCulture), pricingQuantity);
            var billed = Csv.Number(line.Amount);
            var sku = Sku.Of(line, rateCards);
            csv.AppendLine(Csv.Row(
            [
                billed, tenant, tenant, Money.Currency, end, start, "Usage", line.AdjustmentFor is null ? null : "Correction", Description(line), chargeEnd,
                chargeStart, listCost, billed, Issuer, listCost, Csv.Number(pricingQuantity), PricingUnit(line.Meter), Issuer, Publisher(line),
                ServiceCategory, ServiceName(line.Meter), ServiceSubcategory, TenantAccount,
                $"{tenant}/{statement.Period}", Csv.Number(line.Quantity), ConsumedUnit(line.Meter), price, price, "Usage-Based",
                "Standard", line.Team, team?.Name ?? line.Team, sku.Id, sku.PriceId, sku.Meter, sku.PriceDetails,
                tenant, line.Team, team?.CostCenter, team?.Parent, line.Meter, line.Model, line.GpuType, line.AdjustmentFor, statement.Capacity?.Mode,
                sku.RateCardVersion,
            ]));
        }
        if (statement.IdleInTotals)
            foreach (var share in statement.IdleShares.OrderBy(s => s.Team, StringComparer.Ordinal).ThenBy(s => s.GpuType, StringComparer.Ordinal))
            {
                var team = statement.Directory.Teams.GetValueOrDefault(share.Team);
                var cost = Csv.Number(share.Amount);
                // No unit price: FOCUS has ListCost and ContractedCost of such a charge match its BilledCost.
                csv.AppendLine(Csv.Row(
                [
                    cost, CapacityAccount, "GPU capacity", Money.Currency, end, start, "Adjustment", null,
                    $"Idle {share.GpuType} capacity of {statement.Period}, allocated by metered GPU use", end, start,
                    cost, cost, Issuer, cost, null, null, Issuer, Issuer, ServiceCategory, "GPU Compute", ServiceSubcategory,
                    CapacityAccountType, null, null, null, null, null, "Recurring", null, share.Team, team?.Name ?? share.Team, null, null, null, null,
                    null, share.Team, team?.CostCenter, team?.Parent, Meters.GpuSeconds, null, share.GpuType, null, statement.Capacity!.Mode, null,
                ]));
            }
        return csv.ToString();
    }

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
        var what = $"{line.Meter} of {line.Model ?? line.GpuType}, at {line.UnitPrice} USD per {PricingUnit(line.Meter)}";
        return line.AdjustmentFor is null ? what : $"Correction of {line.AdjustmentFor}: {what}";
    }

    private static string PricingUnit(string meter) => Meters.IsTokenMeter(meter) ? "1000000 Tokens" : "Hours";

    private static string ConsumedUnit(string meter) => Meters.IsTokenMeter(meter) ? "Tokens" : "Seconds";

    private static string ServiceName(string meter) => Meters.IsTokenMeter(meter) ? "AI Inference" : "GPU Compute";

    /// <summary>The model's publisher is the part of its name before a slash (<c>meta/llama-4</c>), else the platform.</summary>
    private static string Publisher(LedgerLine line) => line.Model is { } model && model.IndexOf('/') is > 0 and var slash ? model[..slash] : Issuer;

    /// <summary>
    /// A line's entry in the price list. The SKU is the meter's model or GPU type (<c>output_tokens:llama</c>); its one
    /// price term, standard usage-based pricing, is the SKU price (<c>output_tokens:llama:standard</c>). FOCUS 1.2 keeps a
    /// SkuPriceId the same over time, without the price amount or effective dates in it, so a price change shows as a
    /// new ListUnitPrice on the same SkuPriceId; the rate-card version that first listed the price is <c>x_RateCardVersion</c>.
    /// </summary>
    private sealed record Sku(string Id, string PriceId, string Meter, string PriceDetails, string? RateCardVersion)
    {
        public static Sku Of(LedgerLine line, RateCardHistory? rateCards)
        {
            var item = Meters.PricedItem(line.Meter, line.Model, line.GpuType);
            var id = $"{line.Meter}:{item}";
            var price = decimal.Parse(line.UnitPrice!, CultureInfo.InvariantCulture);
            var version = rateCards?.Versions.Where(v => v.PriceOf(line.Meter, line.Model, line.GpuType) == price).MinBy(v => v.Version);
            var details = new Dictionary<string, string?> { [Meters.IsTokenMeter(line.Meter) ? "Model" : "GpuType"] = item };
            return new Sku(id, $"{id}:standard", SkuMeter(line.Meter), JsonSerializer.Serialize(details),
                version?.Version.ToString(CultureInfo.InvariantCulture));
        }

        private static string SkuMeter(string meter) => meter switch
        {
            Meters.InputTokens => "Input Tokens",
            Meters.OutputTokens => "Output Tokens",
            Meters.CachedInputTokens => "Cached Input Tokens",
            _ => "GPU Time",
        };
    }

    /// <summary>The exact product of two decimals, however many digits it takes (decimal multiplication rounds past 28).</summary>
    private static class ExactDecimal
    {
        public static string Product(decimal a, decimal b)
        {
            var (ma, sa) = Split(a);
            var (mb, sb) = Split(b);
            var product = ma * mb;
            var scale = sa + sb;
            var digits = BigInteger.Abs(product).ToString(CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
            var text = scale == 0 ? digits : $"{digits[..^scale]}.{digits[^scale..]}".TrimEnd('0').TrimEnd('.');
            return product.Sign < 0 ? "-" + text : text;
        }

        private static (BigInteger Mantissa, int Scale) Split(decimal value)
        {
            var text = value.ToString(CultureInfo.InvariantCulture);
            var dot = text.IndexOf('.');
            return (BigInteger.Parse(text.Replace(".", "", StringComparison.Ordinal), CultureInfo.InvariantCulture), dot < 0 ? 0 : text.Length - dot - 1);
        }
    }
}
