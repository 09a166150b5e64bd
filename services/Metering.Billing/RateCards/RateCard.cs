using Marten.Events.Aggregation;

namespace Metering.Billing.RateCards;

/// <summary>One price of a version: per <see cref="PriceUnits"/> of its meter.</summary>
public sealed record RateCardPrice(string Meter, string? Model, string? GpuType, decimal Price)
{
    /// <summary>Token meters are priced per model, <c>gpu_seconds</c> per GPU type.</summary>
    public (string Meter, string? Item) Key => PriceTable.KeyOf(Meter, Model, GpuType);
}

/// <summary>The event of the <c>rate-card</c> stream: a version was added.</summary>
public sealed record RateCardVersionAdded(int Version, string Currency, DateOnly EffectiveFrom, IReadOnlyList<RateCardPrice> Prices, DateTimeOffset AddedAt, string AddedBy)
    : IRateCardVersion
{
    /// <summary>This version's price of a meter's model or GPU type, if it has one (<see cref="PriceTable"/>'s lookup, without building one).</summary>
    public decimal? PriceOf(string meter, string? model, string? gpuType)
    {
        var key = PriceTable.KeyOf(meter, model, gpuType);
        return Prices.FirstOrDefault(p => p.Key == key)?.Price;
    }

    /// <summary>This version's prices as a <see cref="PriceTable"/>, for pricing many rows with it.</summary>
    public PriceTable Table() => new(Prices.Select(p => (p.Meter, p.Model, p.GpuType, p.Price)));

    public RateCardVersionView ToView() => new(Version, Currency, EffectiveFrom,
        Prices.Select(p => new RateCardPriceView(p.Meter, p.Model, p.GpuType, p.Price.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList(), AddedAt);
}

/// <summary>Every version of the rate card, projected inline from the <c>rate-card</c> stream.</summary>
public sealed record RateCardHistory(string Id, IReadOnlyList<RateCardVersionAdded> Versions)
{
    public const string StreamKey = "rate-card";

    public static RateCardHistory With(RateCardHistory? history, RateCardVersionAdded added) =>
        history is null ? new(StreamKey, [added]) : history with { Versions = [.. history.Versions, added] };

    /// <summary>The version in effect on <paramref name="day"/> (<see cref="VersionInEffect"/>), if any; of the first <paramref name="through"/> versions when given.</summary>
    public RateCardVersionAdded? InEffectOn(DateOnly day, int? through = null) => VersionInEffect.On(Versions, day, through);

    /// <summary>Whether the version in effect on <paramref name="from"/> (or none) is in effect on every day up to <paramref name="to"/>.</summary>
    public static bool OneVersionPrices(RateCardHistory? history, DateOnly from, DateOnly to)
    {
        var first = history?.InEffectOn(from);
        for (var day = from.AddDays(1); day <= to; day = day.AddDays(1))
            if (!ReferenceEquals(history?.InEffectOn(day), first)) return false;
        return true;
    }

    /// <summary>
    /// The price of a day's usage. Usage of a finalized month (a void or late usage, <paramref name="frozenThrough"/>:
    /// the versions its invoice was priced with) keeps the price that invoice had for its day, so a void refunds exactly
    /// what was charged; only what that invoice left unpriced takes the price in effect now.
    /// </summary>
    public decimal? PriceOf(string meter, string? model, string? gpuType, DateOnly day, int? frozenThrough) =>
        (frozenThrough is null ? null : InEffectOn(day, frozenThrough)?.PriceOf(meter, model, gpuType))
        ?? InEffectOn(day)?.PriceOf(meter, model, gpuType);
}

public sealed class RateCardHistoryProjection : SingleStreamProjection<RateCardHistory, string>
{
    public static RateCardHistory Create(RateCardVersionAdded e) => RateCardHistory.With(null, e);

    public static RateCardHistory Apply(RateCardVersionAdded e, RateCardHistory current) => RateCardHistory.With(current, e);
}
