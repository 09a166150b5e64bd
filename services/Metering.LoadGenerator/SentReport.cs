using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Metering.LoadGenerator;

/// <summary>What one run sent and had confirmed (HTTP 202, or Kafka's acknowledgement through the library), per tenant and meter.</summary>
public sealed class SentReport
{
    private readonly ConcurrentDictionary<(string Tenant, string Meter), MeterTotal> _totals = new();

    public sealed record MeterTotal(string Tenant, string Meter, long Events, decimal Quantity);

    public TimeSpan Elapsed { get; set; }
    public long Events => _totals.Values.Sum(t => t.Events);
    public IReadOnlyList<MeterTotal> Totals => [.. _totals.Values.OrderBy(t => t.Tenant, StringComparer.Ordinal).ThenBy(t => t.Meter, StringComparer.Ordinal)];

    public void Confirmed(IEnumerable<UsageEvent> events)
    {
        foreach (var e in events)
            _totals.AddOrUpdate((e.Tenant, e.Meter), _ => new(e.Tenant, e.Meter, 1, e.Quantity),
                (_, t) => t with { Events = t.Events + 1, Quantity = t.Quantity + e.Quantity });
    }

    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"tenant",-24} {"meter",-20} {"events",10} {"quantity",24}");
        foreach (var t in Totals)
            text.AppendLine(CultureInfo.InvariantCulture, $"{t.Tenant,-24} {t.Meter,-20} {t.Events,10} {t.Quantity,24}");
        var seconds = Math.Max(Elapsed.TotalSeconds, 0.001);
        text.AppendLine(CultureInfo.InvariantCulture, $"sent {Events} events in {Elapsed.TotalSeconds:F1} s ({Events / seconds:F0} events/s)");
        return text.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(new { events = Events, elapsed_seconds = Elapsed.TotalSeconds, totals = Totals }, MeteringJson.Options);
}
