using System.Text.Json;

namespace Metering.Billing.RateCards;

/// <summary>
/// A validated <c>PUT /v1/rate-card</c> body. A version replaces the whole price list from its day; <see cref="Replace"/>
/// says that prices of the version it follows may be dropped (that usage becomes unpriced).
/// </summary>
public sealed record NewRateCardVersion(string Currency, DateOnly EffectiveFrom, IReadOnlyList<RateCardPrice> Prices, bool Replace = false);

/// <summary>What adding a version came to (<see cref="RateCardRules.Add"/>).</summary>
public abstract record RateCardOutcome
{
    /// <summary>The version is added: this event goes on the <c>rate-card</c> stream.</summary>
    public sealed record Added(RateCardVersionAdded Event) : RateCardOutcome;

    /// <summary>Refused: the version drops these prices of version <see cref="Previous"/>, in effect on its day, without <c>replace</c>.</summary>
    public sealed record WouldUnprice(int Previous, IReadOnlyList<RateCardPrice> Dropped) : RateCardOutcome;
}

/// <summary>Reads a rate card field by field: every broken rule as <c>prices[i].field</c>, nothing stored unless all hold.</summary>
public static class RateCardRules
{
    public const int MaxPrices = 10_000;
    /// <summary>Bounds that keep quantity (≤ 1e12) × price exact in a decimal.</summary>
    public const decimal MaxPrice = 1_000_000m;
    public const int MaxScale = 10;

    public static NewRateCardVersion? Read(JsonElement root, ICollection<FieldError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("$", "must be a JSON object"));
            return null;
        }
        var before = errors.Count;
        if (JsonFields.Text(root, "currency", "currency", errors) != Money.Currency) errors.Add(new("currency", $"must be {Money.Currency}"));
        var effective = JsonFields.Text(root, "effective_from", "effective_from", errors);
        if (!DateOnly.TryParseExact(effective, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var effectiveFrom))
            errors.Add(new("effective_from", "must be a date as YYYY-MM-DD"));

        var replace = false;
        if (root.TryGetProperty("replace", out var flag) && flag.ValueKind != JsonValueKind.Null)
        {
            if (flag.ValueKind is JsonValueKind.True or JsonValueKind.False) replace = flag.GetBoolean();
            else errors.Add(new("replace", "must be true or false"));
        }

        var prices = new List<RateCardPrice>();
        if (!root.TryGetProperty("prices", out var array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() is 0 or > MaxPrices)
            errors.Add(new("prices", $"must be an array of 1 to {MaxPrices} prices"));
        else
        {
            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                var prefix = $"prices[{index++}]";
                if (ReadPrice(element, prefix, errors) is not { } price) continue;
                if (prices.Any(p => p.Key == price.Key)) errors.Add(new(prefix, $"duplicates the price of {price.Key.Meter} {price.Key.Item}"));
                else prices.Add(price);
            }
        }
        return errors.Count > before ? null : new NewRateCardVersion(Money.Currency, effectiveFrom, prices, replace);
    }

    /// <summary>
    /// Adds <paramref name="version"/> to the versions so far: numbered next, unless it drops prices of the version in
    /// effect on its day without <c>replace</c> (that usage would become unpriced).
    /// </summary>
    public static RateCardOutcome Add(RateCardHistory? history, NewRateCardVersion version, string addedBy, DateTimeOffset now)
    {
        if (!version.Replace && history?.InEffectOn(version.EffectiveFrom) is { } previous)
        {
            var kept = version.Prices.Select(p => p.Key).ToHashSet();
            var dropped = previous.Prices.Where(p => !kept.Contains(p.Key)).ToList();
            if (dropped.Count > 0) return new RateCardOutcome.WouldUnprice(previous.Version, dropped);
        }
        var number = (history?.Versions.Count ?? 0) + 1;
        return new RateCardOutcome.Added(new RateCardVersionAdded(number, version.Currency, version.EffectiveFrom, version.Prices, now, addedBy));
    }

    private static RateCardPrice? ReadPrice(JsonElement element, string prefix, ICollection<FieldError> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new(prefix, "must be an object"));
            return null;
        }
        var before = errors.Count;
        var meter = JsonFields.Text(element, "meter", $"{prefix}.meter", errors);
        var model = JsonFields.Text(element, "model", $"{prefix}.model", errors);
        var gpuType = JsonFields.Text(element, "gpu_type", $"{prefix}.gpu_type", errors);
        if (meter is null || !Meters.IsKnown(meter))
            errors.Add(new($"{prefix}.meter", $"must be one of {string.Join(", ", Meters.All)}"));
        else if (Meters.IsTokenMeter(meter))
        {
            // The usage's own pattern: a price of a model no usage can name ("llama-4-70b\n") would price nothing.
            if (string.IsNullOrEmpty(model)) errors.Add(new($"{prefix}.model", $"is required for {meter}"));
            else if (!UsageEventRules.IsValidModel(model)) errors.Add(new($"{prefix}.model", UsageEventRules.ModelRule));
            if (gpuType is not null) errors.Add(new($"{prefix}.gpu_type", $"must be absent for {meter}"));
        }
        else
        {
            if (string.IsNullOrEmpty(gpuType)) errors.Add(new($"{prefix}.gpu_type", $"is required for {meter}"));
            else if (!UsageEventRules.IsValidGpuType(gpuType)) errors.Add(new($"{prefix}.gpu_type", UsageEventRules.GpuTypeRule));
            if (model is not null) errors.Add(new($"{prefix}.model", $"must be absent for {meter}"));
        }
        // Money is a decimal string: "0.60", never a JSON number that a client may have rounded through a double.
        var text = JsonFields.Text(element, "price", $"{prefix}.price", errors);
        if (!JsonFields.TryParseDecimal(text, out var price) || price <= 0
            || price > MaxPrice || price.Scale > MaxScale)
        {
            errors.Add(new($"{prefix}.price", $"must be a positive decimal string such as \"0.60\", at most {MaxPrice} with at most {MaxScale} decimals"));
            price = 0;
        }
        return errors.Count > before ? null : new RateCardPrice(meter!, model, gpuType, Canonical(price));
    }

    /// <summary>
    /// One way of writing each price ("2.4" and "2.40" are both "2.40"), so equal prices of different versions make one
    /// invoice line and one ledger line alike.
    /// </summary>
    public static decimal Canonical(decimal price) =>
        decimal.Parse(price.ToString("0.00" + new string('#', MaxScale - 2), CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
