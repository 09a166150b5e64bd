using System.Collections.Immutable;
using System.Globalization;
using Metering.Contracts.Billing;
using Metering.Pricing;

namespace Metering.Budgets.RateCards;

/// <summary>
/// Every rate-card version Billing published, for pricing <c>cost_usd</c> limits with the card in effect today
/// (<see cref="VersionInEffect"/>), at <see cref="PricingRule.Value"/>: not rounded to cents.
/// Usage without a price in effect costs nothing here (Billing reports it as unpriced).
/// </summary>
public sealed class RateCardVersions
{
    /// <summary>A version as Budgets prices with it: its prices parsed once, when it arrives, not per usage event.</summary>
    private sealed record PricedVersion(int Version, DateOnly EffectiveFrom, PriceTable Prices) : IRateCardVersion;

    private ImmutableList<PricedVersion> _versions = [];
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once every version that was on the rate-card topic when Budgets started has been read: until then usage
    /// would be priced without versions that exist, and Budgets stores none and is not ready.
    /// </summary>
    public Task CaughtUp => _caughtUp.Task;

    public void MarkCaughtUp() => _caughtUp.TrySetResult();

    public RateCardVersions() =>
        AtMoment = (meter, model, gpuType, quantity, now) => CostOf(meter, model, gpuType, quantity, VersionInEffect.DayOf(now));

    /// <summary>The cost at a moment's UTC day, as budgets price usage: one delegate shared by every tenant's grain.</summary>
    public TenantBudgets.CostOf AtMoment { get; }

    public int Count => _versions.Count;

    /// <summary>Adds a version (the rate-card feed has checked that its prices parse); one already known is ignored.</summary>
    public void Add(RateCardVersionView version)
    {
        var priced = new PricedVersion(version.Version, version.EffectiveFrom,
            new PriceTable(version.Prices.Select(p => (p.Meter, p.Model, p.GpuType, decimal.Parse(p.Price, CultureInfo.InvariantCulture)))));
        ImmutableInterlocked.Update(ref _versions, list => list.Any(v => v.Version == version.Version) ? list : list.Add(priced));
    }

    /// <summary>The value by the pricing rule, to the <see cref="PeriodTotal.Decimals"/> a total keeps.</summary>
    public decimal CostOf(string meter, string? model, string? gpuType, decimal quantity, DateOnly day) =>
        VersionInEffect.On(_versions, day)?.Prices.PriceOf(meter, model, gpuType) is { } price
            ? Math.Round(PricingRule.Value(meter, quantity, price), PeriodTotal.Decimals, MidpointRounding.ToEven)
            : 0;
}
