using Metering.Contracts.Billing;

namespace Metering.Client;

/// <summary>
/// Billing's API: rate cards, teams and tenant mapping, capacity cost, invoices (read, finalize), voids, chargeback,
/// reconciliation, spend and forecast. The <see cref="HttpClient"/> carries Billing's base address and a token.
/// Changes are never repeated by the client (<see cref="MeteringResilience"/>); reads are.
/// </summary>
public sealed class BillingClient(HttpClient http)
{
    /// <summary><c>PUT /v1/rate-card</c> (admin): adds a version (every call adds one).</summary>
    public Task<RateCardVersionView> PutRateCardAsync(RateCardRequest version, CancellationToken ct = default) =>
        ApiCall.SendAsync<RateCardVersionView>(http, ApiCall.Request(HttpMethod.Put, "/v1/rate-card", version, repeatable: false), ct);

    /// <summary><c>GET /v1/rate-card?on=</c>: the price list in effect on a day; null when no version is.</summary>
    public Task<RateCardOnView?> GetRateCardOnAsync(DateOnly day, CancellationToken ct = default) =>
        ApiCall.FindAsync<RateCardOnView>(http, ApiCall.Request(HttpMethod.Get, new Query("/v1/rate-card").Add("on", day).ToString(), repeatable: true), ct);

    /// <summary><c>GET /v1/rate-card</c> (admin): every version, oldest first.</summary>
    public Task<RateCardVersionsView> GetRateCardVersionsAsync(CancellationToken ct = default) =>
        ApiCall.SendAsync<RateCardVersionsView>(http, ApiCall.Request(HttpMethod.Get, "/v1/rate-card", repeatable: true), ct);

    /// <summary><c>PUT /v1/teams/{team}</c> (admin): creates or changes a team (cost centre).</summary>
    public Task<TeamView> PutTeamAsync(string team, TeamRequest request, CancellationToken ct = default) =>
        ApiCall.SendAsync<TeamView>(http, ApiCall.Request(HttpMethod.Put, $"/v1/teams/{Query.Segment(team)}", request, repeatable: false), ct);

    /// <summary><c>GET /v1/teams</c> (admin).</summary>
    public Task<TeamsView> GetTeamsAsync(CancellationToken ct = default) =>
        ApiCall.SendAsync<TeamsView>(http, ApiCall.Request(HttpMethod.Get, "/v1/teams", repeatable: true), ct);

    /// <summary><c>PUT /v1/tenants/{tenant}/team</c> (admin): the team the tenant's cost is charged to (the mapping keeps its history).</summary>
    public Task<TenantTeamView> PutTenantTeamAsync(string tenant, string team, CancellationToken ct = default) =>
        ApiCall.SendAsync<TenantTeamView>(http, ApiCall.Request(HttpMethod.Put, $"/v1/tenants/{Query.Segment(tenant)}/team", new TenantTeamRequest(team), repeatable: false), ct);

    /// <summary><c>PUT /v1/capacity-cost/{period}</c> (admin): what the month's GPU capacity cost.</summary>
    public Task<CapacityCostRecordedView> PutCapacityCostAsync(string period, CapacityCostRequest request, CancellationToken ct = default) =>
        ApiCall.SendAsync<CapacityCostRecordedView>(http, ApiCall.Request(HttpMethod.Put, $"/v1/capacity-cost/{Query.Segment(period)}", request, repeatable: false), ct);

    /// <summary><c>GET /v1/invoices/{tenant}/{period}</c>: null when the tenant has no invoice for the month.</summary>
    public Task<InvoiceView?> GetInvoiceAsync(string tenant, string period, CancellationToken ct = default) =>
        ApiCall.FindAsync<InvoiceView>(http, ApiCall.Request(HttpMethod.Get, $"/v1/invoices/{Query.Segment(tenant)}/{Query.Segment(period)}", repeatable: true), ct);

    /// <summary><c>GET /v1/invoices?period=</c>: the month's invoices (a viewer's: of its scope).</summary>
    public Task<InvoiceListView> ListInvoicesAsync(string period, CancellationToken ct = default) =>
        ApiCall.SendAsync<InvoiceListView>(http, ApiCall.Request(HttpMethod.Get, new Query("/v1/invoices").Add("period", period).ToString(), repeatable: true), ct);

    /// <summary>
    /// <c>POST /v1/invoices/{tenant}/{period}/finalize</c> (admin): freezes the invoice. 409 (as <see cref="MeteringApiException"/>)
    /// when the month has not ended unless <paramref name="force"/>, or holds unpriced usage unless <paramref name="allowUnpriced"/>
    /// (its <c>unpriced</c> lines in <see cref="MeteringApiException.Problem"/>), or is finalized already.
    /// </summary>
    public Task<InvoiceView> FinalizeAsync(string tenant, string period, bool force = false, bool allowUnpriced = false, CancellationToken ct = default) =>
        ApiCall.SendAsync<InvoiceView>(http, ApiCall.Request(HttpMethod.Post, $"/v1/invoices/{Query.Segment(tenant)}/{Query.Segment(period)}/finalize",
            new FinalizeFlags(force, allowUnpriced), repeatable: false), ct);

    /// <summary><c>POST /v1/usage/{tenant}/{id}/void</c> (admin): the usage stops counting; 409 when it is voided already.</summary>
    public Task<VoidView> VoidUsageAsync(string tenant, string usageId, string reason, CancellationToken ct = default) =>
        ApiCall.SendAsync<VoidView>(http, ApiCall.Request(HttpMethod.Post, $"/v1/usage/{Query.Segment(tenant)}/{Query.Segment(usageId)}/void",
            new VoidRequest(reason), repeatable: false), ct);

    /// <summary><c>GET /v1/chargeback/{period}</c>: every team's statement (a viewer's: its own). 503 while the ledger catches up, repeated after its <c>Retry-After</c>.</summary>
    public Task<ChargebackStatementView> GetChargebackAsync(string period, CancellationToken ct = default) =>
        ApiCall.SendAsync<ChargebackStatementView>(http, ApiCall.Request(HttpMethod.Get, $"/v1/chargeback/{Query.Segment(period)}", repeatable: true), ct);

    /// <summary><c>GET /v1/reconciliation/{period}</c> (admin).</summary>
    public Task<ReconciliationView> GetReconciliationAsync(string period, CancellationToken ct = default) =>
        ApiCall.SendAsync<ReconciliationView>(http, ApiCall.Request(HttpMethod.Get, $"/v1/reconciliation/{Query.Segment(period)}", repeatable: true), ct);

    /// <summary><c>GET /v1/spend</c>: usage priced per bucket of <paramref name="groupBy"/> and <paramref name="granularity"/>, with the optional filters.</summary>
    public Task<SpendView> GetSpendAsync(DateOnly from, DateOnly to, string groupBy, string granularity, string? tenant = null, string? team = null,
        string? meter = null, string? model = null, string? gpuType = null, CancellationToken ct = default) =>
        ApiCall.SendAsync<SpendView>(http, ApiCall.Request(HttpMethod.Get, new Query("/v1/spend").Add("from", from).Add("to", to).Add("group_by", groupBy)
            .Add("granularity", granularity).Add("tenant", tenant).Add("team", team).Add("meter", meter).Add("model", model).Add("gpu_type", gpuType).ToString(),
            repeatable: true), ct);

    /// <summary><c>GET /v1/forecast/{period}</c>: the month-end forecast for the platform, a tenant or a team.</summary>
    public Task<ForecastView> GetForecastAsync(string period, string? tenant = null, string? team = null, CancellationToken ct = default) =>
        ApiCall.SendAsync<ForecastView>(http, ApiCall.Request(HttpMethod.Get,
            new Query($"/v1/forecast/{Query.Segment(period)}").Add("tenant", tenant).Add("team", team).ToString(), repeatable: true), ct);

    /// <summary>Finalize's optional body.</summary>
    private sealed record FinalizeFlags(bool Force, bool AllowUnpriced);
}
