using System.Collections.Concurrent;

namespace Metering.EndToEndTests;

/// <summary>A span as an OTLP exporter sent it: which service, which trace, its parent, name and kind.</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind);

/// <summary>
/// A small OTLP/HTTP receiver (protobuf): the services export to it when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> points
/// here. It decodes just enough of the wire format to see spans (service, ids, name, kind) and metric names.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public OtlpReceiver()
    {
        Endpoint = new Uri($"http://127.0.0.1:{FreePorts.Next()}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }
    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();
    /// <summary>Metric name → the services that exported it.</summary>
    public ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> Metrics { get; } = new();

    private volatile bool _stopping;

    private async Task ServeAsync()
    {
        while (!_stopping)
        {
            try
            {
                var context = await _listener.GetContextAsync();
                await RespondAsync(context);
            }
            catch (Exception) when (_stopping)
            {
                // Stopping closes the listener under a request being read or answered.
                return;
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException)
            {
                // An exporter that hung up mid-request; the next one is served.
            }
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        var data = body.ToArray();
        try
        {
            if (context.Request.Url!.AbsolutePath == "/v1/traces") ReadTraces(data);
            else if (context.Request.Url.AbsolutePath == "/v1/metrics") ReadMetrics(data);
            context.Response.StatusCode = 200;
        }
        catch (FormatException)
        {
            context.Response.StatusCode = 400;
        }
        context.Response.ContentType = "application/x-protobuf";
        context.Response.Close();
    }

    // opentelemetry/proto/trace/v1: TracesData{1 ResourceSpans{1 Resource, 2 ScopeSpans{2 Span{1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind}}}}
    private void ReadTraces(byte[] data)
    {
        foreach (var resourceSpans in Protobuf.Messages(data, 1))
        {
            var service = ServiceName(resourceSpans);
            foreach (var scopeSpans in Protobuf.Messages(resourceSpans, 2))
            foreach (var span in Protobuf.Messages(scopeSpans, 2))
            {
                var fields = Protobuf.Fields(span).ToList();
                byte[] Bytes(int field) => fields.FirstOrDefault(f => f.Number == field).Bytes ?? [];
                Spans.Enqueue(new ReceivedSpan(service, Convert.ToHexStringLower(Bytes(1)), Convert.ToHexStringLower(Bytes(2)),
                    Convert.ToHexStringLower(Bytes(4)), Encoding.UTF8.GetString(Bytes(5)), (int)fields.FirstOrDefault(f => f.Number == 6).Varint));
            }
        }
    }

    // opentelemetry/proto/metrics/v1: MetricsData{1 ResourceMetrics{1 Resource, 2 ScopeMetrics{2 Metric{1 name}}}}
    private void ReadMetrics(byte[] data)
    {
        foreach (var resourceMetrics in Protobuf.Messages(data, 1))
        {
            var service = ServiceName(resourceMetrics);
            foreach (var scopeMetrics in Protobuf.Messages(resourceMetrics, 2))
            foreach (var metric in Protobuf.Messages(scopeMetrics, 2))
            foreach (var name in Protobuf.Messages(metric, 1))
                Metrics.GetOrAdd(Encoding.UTF8.GetString(name), _ => new())[service] = true;
        }
    }

    // Resource{1 KeyValue{1 key, 2 AnyValue{1 string_value}}}
    private static string ServiceName(byte[] resourceSpans)
    {
        foreach (var resource in Protobuf.Messages(resourceSpans, 1))
        foreach (var attribute in Protobuf.Messages(resource, 1))
        {
            if (Encoding.UTF8.GetString(Protobuf.Messages(attribute, 1).FirstOrDefault() ?? []) != "service.name") continue;
            var value = Protobuf.Messages(attribute, 2).FirstOrDefault() ?? [];
            return Encoding.UTF8.GetString(Protobuf.Messages(value, 1).FirstOrDefault() ?? []);
        }
        return "";
    }

    public void Dispose()
    {
        _stopping = true;
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }

    /// <summary>The protobuf wire format, read field by field (varints and length-delimited fields are all OTLP needs here).</summary>
    private static class Protobuf
    {
        public readonly record struct Field(int Number, ulong Varint, byte[]? Bytes);

        public static IEnumerable<byte[]> Messages(byte[] data, int field) =>
            Fields(data).Where(f => f.Number == field && f.Bytes is not null).Select(f => f.Bytes!);

        public static IEnumerable<Field> Fields(byte[] data)
        {
            var position = 0;
            while (position < data.Length)
            {
                var key = ReadVarint(data, ref position);
                var number = (int)(key >> 3);
                switch (key & 7)
                {
                    case 0: yield return new Field(number, ReadVarint(data, ref position), null); break;
                    case 1: position += 8; break;
                    case 2:
                        var length = (int)ReadVarint(data, ref position);
                        if (length < 0 || position + length > data.Length) throw new FormatException("truncated field");
                        yield return new Field(number, 0, data[position..(position + length)]);
                        position += length;
                        break;
                    case 5: position += 4; break;
                    default: throw new FormatException($"unsupported wire type {key & 7}");
                }
            }
        }

        private static ulong ReadVarint(byte[] data, ref int position)
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (position >= data.Length) throw new FormatException("truncated varint");
                var b = data[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return value;
            }
            throw new FormatException("varint too long");
        }
    }
}
