using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Metering.Contracts;
using Metering.Contracts.Usage;

namespace Metering.Ingest.Usage;

/// <summary>
/// Publishes what <c>POST /v1/usage</c> refused with 400 to the dead-letter topic, one record per invalid event (cause
/// <see cref="DeadLetterHeaders.IngestRejected"/>, keyed by its tenant, counted by its timestamp when readable), so
/// that Billing's reconciliation counts every rejected event although Ingest has no database. Best effort: the 400
/// never waits for it, and a record Kafka does not take is logged, not retried. Published through Ingest's one producer.
/// </summary>
public sealed class IngestRejects(UsageProducer producer, ILogger<IngestRejects> logger)
{
    private const int MaxReasonLength = 1024;

    public void Publish(JsonElement root, IReadOnlyList<FieldError> errors, DateTimeOffset now)
    {
        try
        {
            PublishEach(root, errors, now);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or KafkaException)
        {
            // Counting a refusal never turns the client's 400 into a 500.
            logger.LogWarning(ex, "The refused usage events were not published for reconciliation");
        }
    }

    private void PublishEach(JsonElement root, IReadOnlyList<FieldError> errors, DateTimeOffset now)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("events", out var array) || array.ValueKind != JsonValueKind.Array) return;
        var byIndex = errors.Select(e => (Index: IndexOf(e.Field), Error: e)).Where(e => e.Index >= 0).GroupBy(e => e.Index).ToDictionary(g => g.Key, g => g.Select(e => e.Error));
        var request = Guid.NewGuid().ToString("N");
        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            if (byIndex.TryGetValue(index, out var own))
            {
                var tenant = Text(element, "tenant");
                var at = Text(element, "timestamp") is { } t && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : now;
                var reason = FieldError.Describe(own);
                var message = new Message<string?, byte[]>
                {
                    Key = tenant,
                    // The bytes as sent: text that is not valid UTF-8 (one reason to refuse it) cannot be transcoded.
                    Value = JsonMarshal.GetRawUtf8Value(element).ToArray(),
                    Headers = new Headers
                    {
                        { DeadLetterHeaders.Reason, Encoding.UTF8.GetBytes(reason.Length <= MaxReasonLength ? reason : reason[..(MaxReasonLength - 1)] + "…") },
                        { DeadLetterHeaders.Origin, Encoding.UTF8.GetBytes($"ingest/{request}/{index}@{now.ToUnixTimeMilliseconds()}") },
                        { DeadLetterHeaders.Cause, Encoding.UTF8.GetBytes(DeadLetterHeaders.IngestRejected) },
                        { DeadLetterHeaders.ProducedAt, Encoding.UTF8.GetBytes(at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)) },
                    },
                };
                try
                {
                    producer.Kafka.Produce(KafkaTopics.UsageDeadLetters.Name, message, report =>
                    {
                        if (report.Error.IsError) logger.LogWarning("A refused usage event was not published for reconciliation: {Error}", report.Error.Reason);
                    });
                }
                catch (KafkaException ex)
                {
                    logger.LogWarning(ex, "A refused usage event was not published for reconciliation");
                }
            }
            index++;
        }
    }

    /// <summary>The event index of a field path <c>events[i]…</c>, or -1 for an error of the request as a whole.</summary>
    private static int IndexOf(string field) =>
        field.StartsWith("events[", StringComparison.Ordinal) && field.IndexOf(']') is > 7 and var end
            && int.TryParse(field.AsSpan(7, end - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1;

    /// <summary>A string property, or null when it is missing, not a string or not readable text (a lone surrogate).</summary>
    private static string? Text(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String) return null;
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
