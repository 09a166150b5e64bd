using System.Diagnostics;
using Confluent.Kafka;
using Metering.Budgets.Usage;
using Metering.ServiceDefaults;
using Metering.UsageTopic;

namespace Metering.UnitTests;

public sealed class UsageBatchSpanTests
{
    private static UsageRecord Record(string tenant, int n, ActivityContext parent) =>
        new(new UsageEvent($"e-{n}", tenant, Meters.InputTokens, 1, DateTimeOffset.UtcNow, Model: "m"), parent,
            new TopicPartitionOffset("t", 0, n), tenant, [], DateTimeOffset.UtcNow);

    private static ActivityContext Producer() => new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

    [Fact]
    public void A_batch_makes_one_span_a_child_of_its_one_producer_or_linked_to_its_many()
    {
        var started = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == MeteringTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = a => { if (a.OperationName == UsageBatchSpan.Name) lock (started) started.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);

        var request = Producer();
        using (var one = UsageBatchSpan.Start([.. Enumerable.Range(0, 300).Select(n => Record("span-a", n, request))]))
        {
            Assert.NotNull(one);
            Assert.Equal((request.TraceId, request.SpanId), (one.TraceId, one.ParentSpanId));
            Assert.Empty(one.Links);
            Assert.Equal(("span-a", 300), ((string?)one.GetTagItem("metering.tenant"), (int?)one.GetTagItem("messaging.batch.message_count")));
        }

        var producers = Enumerable.Range(0, 200).Select(_ => Producer()).ToList();
        using (var many = UsageBatchSpan.Start([.. producers.Select((p, n) => Record(n % 2 == 0 ? "span-b" : "span-c", n, p))]))
        {
            Assert.NotNull(many);
            Assert.Equal(default, many.ParentSpanId);
            Assert.Equal(UsageBatchSpan.MaxLinks, many.Links.Count());
            Assert.All(many.Links, l => Assert.Contains(l.Context, producers));
            Assert.Null(many.GetTagItem("metering.tenant"));
        }
        lock (started) Assert.Equal(2, started.Count);
    }
}
