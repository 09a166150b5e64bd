using Metering.Contracts.Usage;

namespace Metering.Contracts.Billing;

/// <summary>One price of a rate card: per 1,000,000 tokens of a (meter, model), or per 3,600 GPU-seconds of a GPU type. Money is a decimal string.</summary>
public sealed record RateCardPriceView(string Meter, string? Model, string? GpuType, string Price);

/// <summary>
/// A version of the rate card, as <c>PUT /v1/rate-card</c> answers it and as Billing publishes it on
/// <c>metering.rate-cards.v1</c>. Usage is priced with the version in effect on its day: the latest
/// <see cref="EffectiveFrom"/> not after it; of versions with the same day, the highest <see cref="Version"/>.
/// </summary>
public sealed record RateCardVersionView(int Version, string Currency, DateOnly EffectiveFrom, IReadOnlyList<RateCardPriceView> Prices, DateTimeOffset AddedAt);

/// <summary>Response of <c>GET /v1/rate-card?on=YYYY-MM-DD</c>: the whole price list in effect that day and the version it is.</summary>
public sealed record RateCardOnView(string Currency, DateOnly EffectiveFrom, int Version, IReadOnlyList<RateCardPriceView> Prices);

public static class PriceUnits
{
    public const decimal TokenUnit = 1_000_000m;
    public const decimal GpuSecondsUnit = 3_600m;

    /// <summary>How many units of the meter one price is for.</summary>
    public static decimal Of(string meter) => Meters.IsTokenMeter(meter) ? TokenUnit : GpuSecondsUnit;
}

/// <summary>The message on <c>metering.rate-cards.v1</c>: a version Billing stored.</summary>
public sealed record RateCardPublished(RateCardVersionView Version);

/// <summary>
/// Body of <c>PUT /v1/rate-card</c>: a version that replaces the whole price list from <see cref="EffectiveFrom"/>;
/// <see cref="Replace"/> accepts that it drops prices of the version it follows.
/// </summary>
public sealed record RateCardRequest(string Currency, DateOnly EffectiveFrom, IReadOnlyList<RateCardPriceView> Prices, bool? Replace = null);

/// <summary>Response of <c>GET /v1/rate-card</c> without <c>on</c>, for an admin: every version, oldest first.</summary>
public sealed record RateCardVersionsView(IReadOnlyList<RateCardVersionView> Versions);
