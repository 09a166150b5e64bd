using System.Numerics;

namespace Metering.EndToEndTests;

/// <summary>
/// The FinOps FOCUS 1.2 rules a cost and usage file is judged by, written from the specification's column and attribute
/// definitions (not from our exporter): which columns must be there, which values each allows, when a value must or must
/// not be null, the formats of numbers and date-times, and how costs relate to prices. <see cref="Violations"/> lists
/// every rule a file breaks, so a failing test names them all. One rule is stricter than the spec on purpose: the spec
/// exempts <c>ChargeClass=Correction</c> from ListCost = ListUnitPrice × PricingQuantity, our file holds it on every row.
/// </summary>
public static partial class FocusConformance
{
    public static readonly string[] Mandatory =
    [
        "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
        "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
        "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    ];

    /// <summary>The spec's other columns (Conditional and Recommended) a file may carry without the <c>x_</c> prefix.</summary>
    public static readonly string[] Defined =
    [
        .. Mandatory, "AvailabilityZone", "BillingAccountType", "CapacityReservationId", "CapacityReservationStatus", "ChargeFrequency",
        "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus",
        "CommitmentDiscountType", "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedUnitPrice", "InvoiceId", "ListUnitPrice",
        "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice",
        "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId",
        "SubAccountName", "SubAccountType", "Tags",
    ];

    private static readonly string[] NotNull =
    [
        "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
        "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ProviderName",
        "PublisherName", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    ];

    private static readonly string[] Decimals =
    [
        "BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "PricingQuantity", "ConsumedQuantity", "ListUnitPrice", "ContractedUnitPrice",
    ];

    private static readonly string[] DateTimes = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"];

    private static readonly Dictionary<string, string[]> Subcategories = new()
    {
        ["AI and Machine Learning"] = ["Bots", "Generative AI", "Machine Learning", "Natural Language Processing", "Other (AI and Machine Learning)"],
        ["Compute"] = ["Containers", "End User Computing", "Quantum", "Serverless Compute", "Virtual Machines", "Other (Compute)"],
    };

    /// <summary>Every rule the file breaks, as "row N: rule"; an empty list is a conformant file.</summary>
    public static List<string> Violations(IReadOnlyList<string> header, IReadOnlyList<IReadOnlyDictionary<string, string>> rows)
    {
        var found = new List<string>();
        found.AddRange(Mandatory.Except(header).Select(c => $"mandatory column {c} is missing"));
        found.AddRange(header.Where(c => !Defined.Contains(c) && !c.StartsWith("x_", StringComparison.Ordinal)).Select(c => $"custom column {c} lacks the x_ prefix"));
        found.AddRange(header.GroupBy(c => c).Where(g => g.Count() > 1).Select(g => $"column {g.Key} appears twice"));
        for (var i = 0; i < rows.Count; i++)
            found.AddRange(RowViolations(rows[i]).Select(v => $"row {i + 1}: {v}"));
        // A SKU price has one parent SKU, and its details are shared by (and fixed for) every charge of it.
        foreach (var price in rows.Where(r => r.GetValueOrDefault("SkuPriceId") is { Length: > 0 }).GroupBy(r => r["SkuPriceId"]))
        {
            if (price.Select(r => r.GetValueOrDefault("SkuId")).Distinct().Count() > 1) found.Add($"SkuPriceId {price.Key} has more than one SkuId");
            if (price.Select(r => r.GetValueOrDefault("SkuPriceDetails")).Distinct().Count() > 1) found.Add($"SkuPriceId {price.Key} has different SkuPriceDetails");
        }
        return found;
    }

    private static IEnumerable<string> RowViolations(IReadOnlyDictionary<string, string> row)
    {
        string? Value(string column) => row.TryGetValue(column, out var value) && value.Length > 0 ? value : null;
        var category = Value("ChargeCategory");
        var chargeClass = Value("ChargeClass");
        var usageOrPurchase = category is "Usage" or "Purchase" && chargeClass is null;

        foreach (var column in NotNull.Where(c => Value(c) is null)) yield return $"{column} is null";
        foreach (var column in Decimals.Where(c => Value(c) is { } v && !NumericFormat().IsMatch(v))) yield return $"{column} '{Value(column)}' is not in Numeric Format";
        foreach (var column in DateTimes.Where(c => Value(c) is { } v && !DateTimeFormat().IsMatch(v))) yield return $"{column} '{Value(column)}' is not YYYY-MM-DDTHH:mm:ssZ";
        if (Value("BillingCurrency") is { } currency && !CurrencyCode().IsMatch(currency)) yield return $"BillingCurrency '{currency}' is not an ISO 4217 code";
        if (Before(Value("BillingPeriodStart"), Value("BillingPeriodEnd")) == false) yield return "BillingPeriodStart is not before BillingPeriodEnd";
        if (Before(Value("ChargePeriodStart"), Value("ChargePeriodEnd")) == false) yield return "ChargePeriodStart is not before ChargePeriodEnd";

        if (category is not (null or "Usage" or "Purchase" or "Tax" or "Credit" or "Adjustment")) yield return $"ChargeCategory '{category}' is not allowed";
        if (chargeClass is not (null or "Correction")) yield return $"ChargeClass '{chargeClass}' is not allowed";
        if (Value("ChargeFrequency") is { } frequency && frequency is not ("One-Time" or "Recurring" or "Usage-Based")) yield return $"ChargeFrequency '{frequency}' is not allowed";
        if (category == "Purchase" && Value("ChargeFrequency") == "Usage-Based") yield return "a Purchase is Usage-Based";
        if (Value("PricingCategory") is { } pricing && pricing is not ("Standard" or "Dynamic" or "Committed" or "Other")) yield return $"PricingCategory '{pricing}' is not allowed";
        if (Value("ServiceCategory") is { } service && Value("ServiceSubcategory") is { } subcategory
            && !(Subcategories.TryGetValue(service, out var allowed) && allowed.Contains(subcategory)))
            yield return $"ServiceSubcategory '{subcategory}' is not one of ServiceCategory '{service}'";

        if (usageOrPurchase)
            foreach (var column in new[] { "ListUnitPrice", "ContractedUnitPrice", "PricingQuantity", "PricingCategory", "SkuId", "SkuPriceId" }.Where(c => Value(c) is null))
                yield return $"{column} is null on a {category} charge";
        if (category == "Usage" && chargeClass is null && Value("ConsumedQuantity") is null) yield return "ConsumedQuantity is null on a Usage charge";
        if (category != "Usage" && Value("ConsumedQuantity") is not null) yield return $"ConsumedQuantity is set on a {category} charge";
        if ((Value("PricingQuantity") is null) != (Value("PricingUnit") is null)) yield return "PricingUnit and PricingQuantity are not null together";
        if ((Value("ConsumedQuantity") is null) != (Value("ConsumedUnit") is null)) yield return "ConsumedUnit and ConsumedQuantity are not null together";
        foreach (var column in new[] { "ListUnitPrice", "ContractedUnitPrice" }.Where(c => Value(c) is { } v && v.StartsWith('-'))) yield return $"{column} is negative";
        if (row.ContainsKey("BillingAccountType") && Value("BillingAccountId") is not null && Value("BillingAccountType") is null)
            yield return "BillingAccountType is null for a billing account";
        if (Value("SkuPriceDetails") is { } details && !IsJsonObject(details)) yield return "SkuPriceDetails is not a JSON object";

        foreach (var (cost, price) in new[] { ("ListCost", "ListUnitPrice"), ("ContractedCost", "ContractedUnitPrice") })
        {
            if (Value(cost) is not { } costValue || !NumericFormat().IsMatch(costValue)) continue;
            if (Value(price) is { } unitPrice && Value("PricingQuantity") is { } quantity && NumericFormat().IsMatch(unitPrice) && NumericFormat().IsMatch(quantity))
            {
                if (Exact.Of(unitPrice) * Exact.Of(quantity) != Exact.Of(costValue)) yield return $"{cost} {costValue} is not {price} {unitPrice} × PricingQuantity {quantity}";
            }
            else if (Value(price) is null && Value("BilledCost") is { } billed && NumericFormat().IsMatch(billed) && Exact.Of(billed) != Exact.Of(costValue))
                yield return $"{cost} {costValue} of a charge without {price} is not its BilledCost {billed}";
        }
    }

    /// <summary>BilledCost summed per InvoiceId, exactly (rows without an invoice are left out).</summary>
    public static Dictionary<string, decimal> BilledCostPerInvoice(IEnumerable<IReadOnlyDictionary<string, string>> rows) =>
        rows.Where(r => r.GetValueOrDefault("InvoiceId") is { Length: > 0 })
            .GroupBy(r => r["InvoiceId"])
            .ToDictionary(g => g.Key, g => g.Sum(r => decimal.Parse(r["BilledCost"], CultureInfo.InvariantCulture)));

    private static bool? Before(string? start, string? end) =>
        start is null || end is null || !DateTimeFormat().IsMatch(start) || !DateTimeFormat().IsMatch(end) ? null : string.CompareOrdinal(start, end) < 0;

    private static bool IsJsonObject(string text)
    {
        try { return JsonDocument.Parse(text).RootElement.ValueKind == JsonValueKind.Object; }
        catch (JsonException) { return false; }
    }

    /// <summary>A decimal as an exact fraction mantissa / 10^scale, compared by cross-multiplying: no rounding anywhere.</summary>
    private readonly record struct Exact(BigInteger Mantissa, int Scale)
    {
        public static Exact Of(string text)
        {
            var dot = text.IndexOf('.');
            return new(BigInteger.Parse(text.Replace(".", ""), CultureInfo.InvariantCulture), dot < 0 ? 0 : text.Length - dot - 1);
        }

        public static Exact operator *(Exact a, Exact b) => new(a.Mantissa * b.Mantissa, a.Scale + b.Scale);

        public bool Equals(Exact other) => Mantissa * BigInteger.Pow(10, Math.Max(0, other.Scale - Scale)) == other.Mantissa * BigInteger.Pow(10, Math.Max(0, Scale - other.Scale));

        public override int GetHashCode() => 0;
    }

    /// <summary>Numeric Format: an integer or decimal, a minus sign only, no plus, exponent, unit or thousands separator.</summary>
    [GeneratedRegex(@"^-?\d+(\.\d+)?\z")]
    private static partial Regex NumericFormat();

    /// <summary>Date/Time Format: ISO 8601 in UTC, <c>YYYY-MM-DDTHH:mm:ssZ</c>.</summary>
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\z")]
    private static partial Regex DateTimeFormat();

    [GeneratedRegex(@"^[A-Z]{3}\z")]
    private static partial Regex CurrencyCode();
}
