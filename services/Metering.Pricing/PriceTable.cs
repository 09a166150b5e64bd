using Metering.Contracts.Usage;

namespace Metering.Pricing;

/// <summary>
/// One version's prices by what they price: a token meter's model, <c>gpu_seconds</c>' GPU type. Looked up per usage
/// row, so one dictionary lookup; of two prices of one key, the first counts.
/// </summary>
public sealed class PriceTable
{
    private readonly Dictionary<(string Meter, string? Item), decimal> _prices = [];

    public PriceTable(IEnumerable<(string Meter, string? Model, string? GpuType, decimal Price)> prices)
    {
        foreach (var (meter, model, gpuType, price) in prices) _prices.TryAdd(KeyOf(meter, model, gpuType), price);
    }

    /// <summary>What a price is for: the meter and its priced item (the other of model and GPU type does not count).</summary>
    public static (string Meter, string? Item) KeyOf(string meter, string? model, string? gpuType) => (meter, Meters.PricedItem(meter, model, gpuType));

    public decimal? PriceOf(string meter, string? model, string? gpuType) =>
        _prices.TryGetValue(KeyOf(meter, model, gpuType), out var price) ? price : null;
}
