using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Metering.LoadGenerator;

/// <summary>What one run sent and had confirmed (HTTP 202, or Kafka's acknowledgement through the library), per tenant and meter.</summary>
public sealed class SentReport
{
    private readonly ConcurrentDictionary<(string Tenant, string Meter), MeterTotal> _totals = new();
    private readonly List<int> _requestSizes = [];

    public sealed record MeterTotal(string Tenant, string Meter, long Events, decimal Quantity);

    public TimeSpan Elapsed { get; set; }
    public long Events => _totals.Values.Sum(t => t.Events);
    public IReadOnlyList<MeterTotal> Totals => [.. _totals.Values.OrderBy(t => t.Tenant, StringComparer.Ordinal).ThenBy(t => t.Meter, StringComparer.Ordinal)];

    /// <summary>How many events each confirmed request carried, in the order they were confirmed.</summary>
    public RequestSizes Requests
    {
        get
        {
            lock (_requestSizes) return new RequestSizes([.. _requestSizes], Elapsed);
        }
    }

    /// <summary>One request's events, confirmed: summed per tenant and meter first, so the shared totals change once per pair.</summary>
    public void Confirmed(IReadOnlyList<UsageEvent> request)
    {
        var sums = new Dictionary<(string Tenant, string Meter), (long Events, decimal Quantity)>();
        foreach (var e in request)
        {
            ref var sum = ref CollectionsMarshal.GetValueRefOrAddDefault(sums, (e.Tenant, e.Meter), out _);
            sum = (sum.Events + 1, sum.Quantity + e.Quantity);
        }
        foreach (var ((tenant, meter), (events, quantity)) in sums)
            _totals.AddOrUpdate((tenant, meter), static (key, add) => new(key.Tenant, key.Meter, add.Events, add.Quantity),
                static (_, t, add) => t with { Events = t.Events + add.Events, Quantity = t.Quantity + add.Quantity }, (Events: events, Quantity: quantity));
        lock (_requestSizes) _requestSizes.Add(request.Count);
    }

    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"tenant",-24} {"meter",-20} {"events",10} {"quantity",24}");
        foreach (var t in Totals)
            text.AppendLine(CultureInfo.InvariantCulture, $"{t.Tenant,-24} {t.Meter,-20} {t.Events,10} {t.Quantity,24}");
        var seconds = Math.Max(Elapsed.TotalSeconds, 0.001);
        text.AppendLine(CultureInfo.InvariantCulture, $"sent {Events} events in {Elapsed.TotalSeconds:F1} s ({Events / seconds:F0} events/s)");
        text.AppendLine(Requests.ToString());
        return text.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(new { events = Events, elapsed_seconds = Elapsed.TotalSeconds, totals = Totals }, MeteringJson.Options);
}

/// <summary>The sizes of the requests a run sent (events per request) and what they come to.</summary>
public sealed record RequestSizes(IReadOnlyList<int> Sizes, TimeSpan Elapsed)
{
    public int Count => Sizes.Count;
    public double Mean => Sizes.Count == 0 ? 0 : Sizes.Average();
    public double PerSecond => Elapsed > TimeSpan.Zero ? Sizes.Count / Elapsed.TotalSeconds : 0;
    public int Percentile(double p) => Benchmarks.Percentile.Of(Sizes.Order().ToList(), p, none: 0);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"requests: {Count} ({PerSecond:F1}/s), events per request mean {Mean:F1}, p50 {Percentile(50)}, p95 {Percentile(95)}");
}
