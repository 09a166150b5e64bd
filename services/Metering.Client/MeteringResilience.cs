using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Metering.Client;

/// <summary>
/// The one resilience rule of the client, on the standard handler of Microsoft.Extensions.Http.Resilience (rate limiter,
/// total and per-attempt timeouts, circuit breaker, retries with backoff and <c>Retry-After</c>). A request is repeated
/// after a transient failure (5xx, 408, a timeout, a broken connection) only when a repeat cannot change anything
/// (PRODUCT §5): reads; <c>POST /v1/usage</c>, whose events carry their idempotency ids; <c>authorize</c> without
/// <c>reserve</c>, a question. Never: <c>authorize</c> with <c>reserve</c> (a repeat after a lost answer would hold a
/// second reservation), finalize and void (a repeat answers 409 for the first attempt's success), rate-card versions
/// (each PUT adds one), quota, team and capacity changes (each is audited as a change). 429 is authorize's answer
/// ("not now"): it is neither repeated nor counted as a failure of the service.
/// </summary>
public static class MeteringResilience
{
    /// <summary>Set on a request that may be repeated; absent means never.</summary>
    public static readonly HttpRequestOptionsKey<bool> Repeatable = new("Metering.Repeatable");

    public static void Configure(HttpStandardResilienceOptions options)
    {
        options.Retry.ShouldHandle = args => ValueTask.FromResult(IsRepeatable(args.Context.GetRequestMessage()) && IsFailure(args.Outcome));
        options.CircuitBreaker.ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome));
        // Above the services' own waits (Billing's reads wait up to 15 s for the ledger, then answer 503 with Retry-After),
        // so that the caller gets their answer instead of an attempt cancelled at the standard 10 s.
        options.AttemptTimeout.Timeout = AttemptTimeout;
        options.TotalRequestTimeout.Timeout = TotalTimeout;
        options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(2 * AttemptTimeout.TotalSeconds);
    }

    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(90);

    /// <summary>
    /// For a caller that is its own retry loop (a poll until a state is reached, a sink that sends until accepted): the
    /// client then repeats nothing and never opens its circuit, so each of the caller's attempts is one request and
    /// its failure comes back at once.
    /// </summary>
    public static void RepeatNothing(HttpStandardResilienceOptions options)
    {
        options.Retry.ShouldHandle = _ => ValueTask.FromResult(false);
        options.CircuitBreaker.ShouldHandle = _ => ValueTask.FromResult(false);
    }

    public static bool IsRepeatable(HttpRequestMessage? request) => request is not null && request.Options.TryGetValue(Repeatable, out var repeatable) && repeatable;

    private static bool IsFailure(Outcome<HttpResponseMessage> outcome) =>
        outcome.Result?.StatusCode != HttpStatusCode.TooManyRequests && HttpClientResiliencePredicates.IsTransient(outcome);
}
