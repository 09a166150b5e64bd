using Metering.Contracts.Usage;

namespace Metering.Client;

/// <summary>Ingest's API: usage events over HTTP. The <see cref="HttpClient"/> carries Ingest's base address and an emitter or admin token.</summary>
public sealed class IngestClient(HttpClient http)
{
    /// <summary>
    /// <c>POST /v1/usage</c>: 1–1000 events, accepted all or nothing once Kafka has them. Repeated after a transient failure:
    /// each event's (tenant, id) is its idempotency key, so what a lost attempt delivered is not counted twice.
    /// An invalid event: <see cref="MeteringApiException"/> 400 with every error by event index and field (<c>events[2].quantity</c>).
    /// </summary>
    public Task<UsageAccepted> SendUsageAsync(IReadOnlyList<UsageEvent> events, CancellationToken ct = default) =>
        ApiCall.SendAsync<UsageAccepted>(http, ApiCall.Request(HttpMethod.Post, "/v1/usage", new UsageRequest(events), repeatable: true), ct);
}
