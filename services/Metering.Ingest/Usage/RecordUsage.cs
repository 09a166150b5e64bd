using System.Diagnostics.Metrics;
using System.Text.Json;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;

namespace Metering.Ingest.Usage;

/// <summary>
/// <c>POST /v1/usage</c>: 1–1000 events, all-or-nothing. Every broken rule is reported by event index and field;
/// 202 only after Kafka acknowledged every event.
/// </summary>
public static class RecordUsage
{
    public const int MaxEvents = 1000;
    public const long MaxBodyBytes = 4 * 1024 * 1024;
    private static readonly Counter<long> Accepted = MeteringTelemetry.Meter.CreateCounter<long>(
        "metering.ingest.events.accepted", description: "Usage events accepted (202) after Kafka acknowledged them");
    private static readonly Counter<long> Rejected = MeteringTelemetry.Meter.CreateCounter<long>(
        "metering.ingest.requests.rejected", description: "Usage requests refused as invalid (400/413/415); none of their events was accepted");

    public static void MapRecordUsage(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/usage", HandleAsync).RequireAuthorization(Policies.Emitter).WithBodyLimit(MaxBodyBytes)
            .WithName("RecordUsage").WithTags("Usage").WithSummary("Record 1–1000 usage events, all or nothing")
            .AcceptsJson<UsageRequest>().Produces<UsageAccepted>(StatusCodes.Status202Accepted).ProducesRetryLater();

    private static async Task<IResult> HandleAsync(HttpRequest request, UsageProducer producer, IngestRejects rejects, TimeProvider clock, CancellationToken ct)
    {
        using var body = await UsageBody.ReadAsync(request, ct);
        if (body.Error is { } unread) return Invalid([unread], body.StatusCode);
        var now = clock.GetUtcNow();
        var (events, errors, unreadable) = UsageRequestReader.Read(body.Bytes, now);
        if (unreadable is not null) return Invalid([unreadable]);
        if (errors.Count > 0)
        {
            // Refusals are the rare path: the events' own bytes are taken from a DOM of the body.
            using (var document = JsonDocument.Parse(body.Memory[UsageRequestReader.ByteOrderMarkLength(body.Bytes)..])) rejects.Publish(document.RootElement, errors, now);
            return Invalid(errors);
        }

        try
        {
            await producer.ProduceAllAsync(events, now, ct);
        }
        catch (Confluent.Kafka.KafkaException ex)
        {
            // Some events may have reached Kafka: a retry with the same ids is counted once.
            return RetryLater.Problem("Kafka did not acknowledge the events",
                $"{ex.Error.Code}: retry the same request; events are deduplicated by (tenant, id).");
        }
        Accepted.Add(events.Count);
        return Results.Accepted(value: new UsageAccepted(events.Count));
    }

    private static IResult Invalid(IEnumerable<FieldError> errors, int status = StatusCodes.Status400BadRequest)
    {
        Rejected.Add(1);
        return Results.ValidationProblem(
            FieldError.ByField(errors),
            statusCode: status,
            title: "The usage request is invalid; nothing of it was accepted.");
    }
}
