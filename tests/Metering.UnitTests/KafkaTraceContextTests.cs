using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Kafka;

namespace Metering.UnitTests;

/// <summary>Trace context in Kafka headers, as producers write it and the usage consumers read it back.</summary>
public class KafkaTraceContextTests
{
    private static Activity Caller()
    {
        var activity = new Activity("inference request").SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        activity.TraceStateString = "vendor=one";
        return activity.Start();
    }

    [Fact]
    public void A_usage_record_carries_the_producing_activity_and_a_consumer_continues_its_trace_from_it()
    {
        using var caller = Caller();
        var message = UsageMessages.Create(new UsageEvent("u1", "acme", Meters.InputTokens, 1, DateTimeOffset.UtcNow, Model: "m"), DateTimeOffset.UtcNow);

        Assert.Equal($"00-{caller.TraceId}-{caller.SpanId}-01", Encoding.UTF8.GetString(message.Headers.GetLastBytes("traceparent")));
        Assert.Equal("vendor=one", Encoding.UTF8.GetString(message.Headers.GetLastBytes("tracestate")));
        var parent = KafkaTraceContext.ParentOf(message.Headers);
        Assert.Equal((caller.TraceId, caller.SpanId, ActivityTraceFlags.Recorded, true), (parent.TraceId, parent.SpanId, parent.TraceFlags, parent.IsRemote));
    }

    [Fact]
    public void Without_an_activity_no_trace_header_is_written()
    {
        Assert.Empty(KafkaTraceContext.HeadersOf(null));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not a traceparent")]
    [InlineData("00-00000000000000000000000000000000-0000000000000000-01")]
    public void A_record_without_a_readable_trace_context_has_no_parent(string? traceparent)
    {
        var headers = new Headers();
        if (traceparent is not null) headers.Add("traceparent", Encoding.UTF8.GetBytes(traceparent));
        Assert.Equal(default, KafkaTraceContext.ParentOf(headers));
        Assert.Equal(default, KafkaTraceContext.ParentOf(null));
    }
}
