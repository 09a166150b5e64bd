using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Metering.Client;
using Metering.Contracts.Billing;
using Metering.Contracts.Budgets;
using Metering.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Metering.UnitTests;

/// <summary>
/// The typed client against a real Kestrel that answers as the services do: the requests it sends (paths, token, body
/// in the Metering shape), problem+json turned into <see cref="MeteringApiException"/>, and which requests it repeats.
/// </summary>
public sealed class MeteringClientTests : IAsyncLifetime
{
    private const string Token = "unit-token";
    private WebApplication _api = null!;
    private MeteringClient _client = null!;
    /// <summary>What each request answers, in turn, by "METHOD path"; the last answer repeats.</summary>
    private readonly ConcurrentDictionary<string, Queue<Func<IResult>>> _answers = new();
    private readonly ConcurrentQueue<Received> _received = new();

    private sealed record Received(string Call, string? Authorization, string? Actor, string? ContentType, string Body);

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _api = builder.Build();
        _api.Run(async context =>
        {
            var call = $"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}";
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            _received.Enqueue(new(call, context.Request.Headers.Authorization, context.Request.Headers[BudgetsClient.ActorHeader], context.Request.ContentType, body));
            var answer = _answers.TryGetValue(call, out var queue) ? (queue.Count > 1 ? queue.Dequeue() : queue.Peek())() : Results.NotFound();
            await answer.ExecuteAsync(context);
        });
        await _api.StartAsync();
        var url = new Uri(_api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        _client = MeteringClient.Create(o =>
        {
            (o.Ingest, o.Budgets, o.Billing, o.Token) = (url, url, url, Token);
            // The standard backoff waits seconds; the rule under test is whether a request is repeated, not how long it waits.
            o.Resilience = r => r.Retry.Delay = TimeSpan.FromMilliseconds(1);
        });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _api.DisposeAsync();
    }

    private void Answer(string call, params Func<IResult>[] answers) => _answers[call] = new Queue<Func<IResult>>(answers);

    private int Attempts(string call) => _received.Count(r => r.Call == call);

    private static IResult Unavailable() => Results.Problem(title: "Budget temporarily unavailable", statusCode: StatusCodes.Status503ServiceUnavailable);

    private static IResult Json(object value, int status = StatusCodes.Status200OK) => Results.Json(value, MeteringJson.Options, statusCode: status);

    [Fact]
    public async Task A_refusal_in_problem_json_becomes_an_exception_with_the_status_title_detail_and_every_fields_errors()
    {
        Answer("PUT /v1/tenants/acme/quota", () => Results.ValidationProblem(new Dictionary<string, string[]>
        {
            ["limits[0].period"] = ["must be day or month"],
            ["limits[1].limit"] = ["must be a number", "must be at least 0"],
        }, title: "The request is invalid; nothing was changed.", detail: "2 fields"));

        var refused = await Assert.ThrowsAsync<MeteringApiException>(() =>
            _client.Budgets.PutQuotaAsync("acme", new QuotaRequest([new QuotaLimit(Meters.InputTokens, "year", 10, 80, Enforcements.Throttle)])));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(("The request is invalid; nothing was changed.", "2 fields"), (refused.Title, refused.Detail));
        Assert.Equal(["limits[0].period", "limits[1].limit"], refused.Errors.Keys.Order());
        Assert.Equal(["must be a number", "must be at least 0"], refused.Errors["limits[1].limit"]);
        Assert.Contains("limits[0].period must be day or month", refused.Message);
        Assert.True(refused.Problem!.Value.TryGetProperty("errors", out _));
        // A change is tried once: its refusal is the answer.
        Assert.Equal(1, Attempts("PUT /v1/tenants/acme/quota"));
    }

    [Fact]
    public async Task A_problems_own_members_and_retry_after_are_kept_and_an_answer_that_is_not_problem_json_is_not_read_into_the_message()
    {
        Answer("POST /v1/invoices/acme/2026-11/finalize", () => Results.Problem(detail: "the month holds unpriced usage", statusCode: StatusCodes.Status409Conflict,
            extensions: new Dictionary<string, object?> { ["unpriced"] = new[] { new { meter = "output_tokens", model = "m", quantity = 400 } } }));
        var conflict = await Assert.ThrowsAsync<MeteringApiException>(() => _client.Billing.FinalizeAsync("acme", "2026-11", force: true));
        Assert.Equal((HttpStatusCode.Conflict, "the month holds unpriced usage"), (conflict.StatusCode, conflict.Detail));
        Assert.Equal(400, conflict.Problem!.Value.GetProperty("unpriced")[0].GetProperty("quantity").GetInt32());
        Assert.Empty(conflict.Errors);

        Answer("GET /v1/chargeback/2026-11", () => Results.Text("secret upstream page", "text/html", statusCode: StatusCodes.Status502BadGateway));
        var proxy = await Assert.ThrowsAsync<MeteringApiException>(() => _client.Billing.GetChargebackAsync("2026-11"));
        Assert.Equal(HttpStatusCode.BadGateway, proxy.StatusCode);
        Assert.Null(proxy.Problem);
        Assert.DoesNotContain("secret", proxy.Message);
        Assert.DoesNotContain(Token, proxy.Message);
    }

    [Fact]
    public async Task Requests_carry_the_token_and_a_snake_case_body_and_an_absent_invoice_is_null()
    {
        Answer("POST /v1/tenants/acme/authorize", () => Json(new AuthorizeResponse(true, ReservationId: "r-1")));
        Answer("PUT /v1/tenants/acme/quota", () => Json(new BudgetView("acme", BudgetStatuses.Ok, [], [])));

        var allowed = await _client.Budgets.AuthorizeAsync("acme", new AuthorizeRequest(Meters.GpuSeconds, 3.5m, GpuType: "h100", Reserve: true));
        Assert.Equal((true, "r-1"), (allowed.Allowed, allowed.ReservationId));
        await _client.Budgets.PutQuotaAsync("acme", new QuotaRequest([new QuotaLimit(CostMeter.CostUsd, Periods.Day, 250.5m, 90, Enforcements.Alert)]), actor: "alice");
        Assert.Null(await _client.Billing.GetInvoiceAsync("acme", "2026-11"));

        var authorize = _received.First(r => r.Call == "POST /v1/tenants/acme/authorize");
        Assert.Equal(($"Bearer {Token}", "application/json"), (authorize.Authorization, authorize.ContentType));
        Assert.Equal("""{"meter":"gpu_seconds","quantity":3.5,"gpu_type":"h100","reserve":true}""", authorize.Body);
        var quota = _received.First(r => r.Call == "PUT /v1/tenants/acme/quota");
        Assert.Equal("alice", quota.Actor);
        Assert.Equal("""{"limits":[{"meter":"cost_usd","period":"day","limit":250.5,"soft_pct":90,"enforcement":"alert"}]}""", quota.Body);
        Assert.Equal(1, Attempts("GET /v1/invoices/acme/2026-11"));
    }

    [Fact]
    public async Task Not_allowed_is_an_answer_neither_repeated_nor_an_error()
    {
        Answer("POST /v1/tenants/acme/authorize", () => Json(new AuthorizeResponse(false, "input_tokens day limit reached", 3600), StatusCodes.Status429TooManyRequests));

        var refused = await _client.Budgets.AuthorizeAsync("acme", new AuthorizeRequest(Meters.InputTokens, 1, "m"));

        Assert.Equal((false, "input_tokens day limit reached", 3600L), (refused.Allowed, refused.Reason, refused.RetryAfterSeconds));
        Assert.Equal(1, Attempts("POST /v1/tenants/acme/authorize"));
    }

    [Fact]
    public async Task A_question_and_a_usage_batch_are_repeated_after_a_transient_failure_with_the_same_body()
    {
        Answer("POST /v1/tenants/acme/authorize", Unavailable, () => Json(new AuthorizeResponse(true)));
        Answer("POST /v1/usage", Unavailable, Unavailable, () => Json(new UsageAccepted(1), StatusCodes.Status202Accepted));

        Assert.True((await _client.Budgets.AuthorizeAsync("acme", new AuthorizeRequest(Meters.InputTokens, 1, "m"))).Allowed);
        var usage = new UsageEvent("u-1", "acme", Meters.OutputTokens, 12, DateTimeOffset.Parse("2026-11-23T10:00:00Z"), "m");
        Assert.Equal(1, (await _client.Ingest.SendUsageAsync([usage])).Accepted);

        Assert.Equal(2, Attempts("POST /v1/tenants/acme/authorize"));
        var sends = _received.Where(r => r.Call == "POST /v1/usage").Select(r => r.Body).ToList();
        Assert.Equal(3, sends.Count);
        Assert.Single(sends.Distinct());
        Assert.Equal("u-1", JsonDocument.Parse(sends[0]).RootElement.GetProperty("events")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_reservation_and_the_admin_changes_are_never_repeated()
    {
        Answer("POST /v1/tenants/acme/authorize", Unavailable, () => Json(new AuthorizeResponse(true, ReservationId: "r-2")));
        Answer("PUT /v1/rate-card", Unavailable, () => Json(new { }));
        Answer("POST /v1/usage/acme/u-1/void", Unavailable, () => Json(new { }));

        var reserve = await Assert.ThrowsAsync<MeteringApiException>(() =>
            _client.Budgets.AuthorizeAsync("acme", new AuthorizeRequest(Meters.InputTokens, 1, "m", Reserve: true)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, reserve.StatusCode);
        await Assert.ThrowsAsync<MeteringApiException>(() =>
            _client.Billing.PutRateCardAsync(new RateCardRequest("USD", new DateOnly(2026, 11, 1), [new RateCardPriceView(Meters.OutputTokens, "m", null, "0.60")])));
        await Assert.ThrowsAsync<MeteringApiException>(() => _client.Billing.VoidUsageAsync("acme", "u-1", "duplicate"));

        Assert.Equal([1, 1, 1], new[] { "POST /v1/tenants/acme/authorize", "PUT /v1/rate-card", "POST /v1/usage/acme/u-1/void" }.Select(Attempts));
    }

    [Fact]
    public async Task Path_segments_and_query_values_are_escaped()
    {
        Answer("GET /v1/spend?from=2026-11-01&to=2026-11-30&group_by=model&granularity=day&model=a%26b", () => Json(new SpendView("USD", "2026-11-01", "2026-11-30", "model", "day", [], null, "0.00")));

        await Assert.ThrowsAsync<MeteringApiException>(() => _client.Budgets.GetBudgetAsync("acme/../admin"));
        var spend = await _client.Billing.GetSpendAsync(new DateOnly(2026, 11, 1), new DateOnly(2026, 11, 30), "model", "day", model: "a&b");

        Assert.Equal("0.00", spend.Total);
        Assert.Contains(_received, r => r.Call == "GET /v1/tenants/acme%2F..%2Fadmin/budget");
    }
}
