using System.Collections.Immutable;
using System.Globalization;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;

namespace Metering.Budgets.Pricing;

/// <summary>
/// Every rate-card version Billing published, for pricing <c>cost_usd</c> limits with the card in effect today.
/// Usage without a price in effect costs nothing here (Billing reports it as unpriced).
/// </summary>
public sealed class RateCards
{
    private ImmutableList<RateCardVersionView> _versions = [];
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once every version that was on the rate-card topic when Budgets started has been read: until then usage
    /// would be priced without versions that exist, and Budgets stores none and is not ready.
    /// </summary>
    public Task CaughtUp => _caughtUp.Task;

    public void MarkCaughtUp() => _caughtUp.TrySetResult();

    public RateCards() =>
        AtMoment = (meter, model, gpuType, quantity, now) => CostOf(meter, model, gpuType, quantity, DateOnly.FromDateTime(now.UtcDateTime));

    /// <summary>The cost at a moment's UTC day, as budgets price usage: one delegate shared by every tenant's grain.</summary>
    public Tracking.CostOf AtMoment { get; }

    public int Count => _versions.Count;

    public void Add(RateCardVersionView version) =>
        ImmutableInterlocked.Update(ref _versions, list => list.Any(v => v.Version == version.Version) ? list : list.Add(version));

    public decimal CostOf(string meter, string? model, string? gpuType, decimal quantity, DateOnly day)
    {
        var version = _versions.Where(v => v.EffectiveFrom <= day).OrderBy(v => v.EffectiveFrom).ThenBy(v => v.Version).LastOrDefault();
        var item = Meters.PricedItem(meter, model, gpuType);
        var price = version?.Prices.FirstOrDefault(p => p.Meter == meter && Meters.PricedItem(p.Meter, p.Model, p.GpuType) == item);
        return price is null ? 0 : quantity * decimal.Parse(price.Price, CultureInfo.InvariantCulture) / PriceUnits.Of(meter);
    }
}
