using System.Net;
using Metering.Contracts.Budgets;

namespace Metering.Client;

/// <summary>Budgets' API: authorize and reserve, budgets, quotas, the tenant and alert lists. The <see cref="HttpClient"/> carries Budgets' base address and a token.</summary>
public sealed class BudgetsClient(HttpClient http)
{
    /// <summary>Tokens belong to roles, not people: the optional header that names the person behind a quota change in its history.</summary>
    public const string ActorHeader = QuotaHeaders.Actor;

    /// <summary>
    /// <c>POST /v1/tenants/{tenant}/authorize</c>: may the tenant spend this much now? Both answers are answers: allowed (with a
    /// <see cref="AuthorizeResponse.ReservationId"/> when <see cref="AuthorizeRequest.Reserve"/> holds it), or not allowed
    /// (the service's 429) with the reason and when to ask again. A question is repeated after a transient failure; a
    /// reservation is not (a repeat after a lost answer would hold twice).
    /// </summary>
    public Task<AuthorizeResponse> AuthorizeAsync(string tenant, AuthorizeRequest request, CancellationToken ct = default) =>
        ApiCall.SendAsync<AuthorizeResponse>(http, ApiCall.Request(HttpMethod.Post, $"/v1/tenants/{Query.Segment(tenant)}/authorize", request, repeatable: !request.Reserve),
            ct, HttpStatusCode.TooManyRequests);

    /// <summary><c>GET /v1/tenants/{tenant}/budget</c>: status, the current day's and month's usage, and every limit.</summary>
    public Task<BudgetView> GetBudgetAsync(string tenant, CancellationToken ct = default) =>
        ApiCall.SendAsync<BudgetView>(http, ApiCall.Request(HttpMethod.Get, $"/v1/tenants/{Query.Segment(tenant)}/budget", repeatable: true), ct);

    /// <summary><c>PUT /v1/tenants/{tenant}/quota</c> (admin): replaces every limit; answers the budget. Audited, so never repeated.</summary>
    public Task<BudgetView> PutQuotaAsync(string tenant, QuotaRequest quota, string? actor = null, CancellationToken ct = default)
    {
        var request = ApiCall.Request(HttpMethod.Put, $"/v1/tenants/{Query.Segment(tenant)}/quota", quota, repeatable: false);
        if (actor is not null) request.Headers.Add(ActorHeader, actor);
        return ApiCall.SendAsync<BudgetView>(http, request, ct);
    }

    /// <summary><c>GET /v1/tenants/{tenant}/quota/history</c> (admin): every change, oldest first.</summary>
    public Task<QuotaHistoryView> GetQuotaHistoryAsync(string tenant, CancellationToken ct = default) =>
        ApiCall.SendAsync<QuotaHistoryView>(http, ApiCall.Request(HttpMethod.Get, $"/v1/tenants/{Query.Segment(tenant)}/quota/history", repeatable: true), ct);

    /// <summary><c>GET /v1/tenants</c> (admin): a page of the tenants Budgets knows; pass <see cref="TenantListView.NextCursor"/> for the next.</summary>
    public Task<TenantListView> ListTenantsAsync(string? status = null, string? prefix = null, int? limit = null, string? cursor = null, CancellationToken ct = default) =>
        ApiCall.SendAsync<TenantListView>(http, ApiCall.Request(HttpMethod.Get,
            new Query("/v1/tenants").Add("status", status).Add("q", prefix).Add("limit", limit).Add("cursor", cursor).ToString(), repeatable: true), ct);

    /// <summary><c>GET /v1/tenants/counts</c> (admin): how many tenants the list holds, in all and per status.</summary>
    public Task<TenantCountsView> CountTenantsAsync(string? prefix = null, CancellationToken ct = default) =>
        ApiCall.SendAsync<TenantCountsView>(http, ApiCall.Request(HttpMethod.Get, new Query("/v1/tenants/counts").Add("q", prefix).ToString(), repeatable: true), ct);

    /// <summary><c>GET /v1/alerts</c> (admin): a page of the alerts sent, newest first.</summary>
    public Task<AlertListView> ListAlertsAsync(string? tenant = null, DateTimeOffset? since = null, int? limit = null, string? cursor = null, CancellationToken ct = default) =>
        ApiCall.SendAsync<AlertListView>(http, ApiCall.Request(HttpMethod.Get, new Query("/v1/alerts").Add("tenant", tenant)
            .Add("since", since?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", System.Globalization.CultureInfo.InvariantCulture))
            .Add("limit", limit).Add("cursor", cursor).ToString(), repeatable: true), ct);
}
