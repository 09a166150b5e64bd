using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Metering.Kafka;

/// <summary>
/// W3C trace context (and baggage) in Kafka headers, written and read by OpenTelemetry's propagator: the one place a
/// record's <c>traceparent</c> is made or parsed.
/// </summary>
public static class KafkaTraceContext
{
    private static readonly TextMapPropagator W3C = new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator()]);

    /// <summary>
    /// <see cref="Propagators.DefaultTextMapPropagator"/> as the OpenTelemetry SDK set it; where no SDK runs (a platform
    /// service using the emitter without OpenTelemetry) the API's default propagates nothing, so W3C is used instead.
    /// </summary>
    private static TextMapPropagator Propagator => Propagators.DefaultTextMapPropagator is { Fields: not null } configured ? configured : W3C;

    /// <summary>Headers carrying the activity's context; empty when there is none.</summary>
    public static Headers HeadersOf(Activity? activity) => HeadersOf(activity?.Context ?? default);

    /// <summary>Headers carrying <paramref name="context"/> and the current baggage; empty when the context is default.</summary>
    public static Headers HeadersOf(ActivityContext context)
    {
        var headers = new Headers();
        if (context != default)
            Propagator.Inject(new PropagationContext(context, Baggage.Current), headers, static (carrier, name, value) =>
            {
                carrier.Remove(name);
                carrier.Add(name, Encoding.UTF8.GetBytes(value));
            });
        return headers;
    }

    /// <summary>The context a record's producer sent, to continue its trace from; default when it carries none or an unreadable one.</summary>
    public static ActivityContext ParentOf(Headers? headers) =>
        headers is null
            ? default
            : Propagator.Extract(default, headers, static (carrier, name) =>
                carrier.TryGetLastBytes(name, out var bytes) ? [Encoding.UTF8.GetString(bytes)] : []).ActivityContext;
}
