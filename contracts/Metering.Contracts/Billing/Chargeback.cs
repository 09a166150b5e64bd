using System.Text.Json.Serialization;

namespace Metering.Contracts.Billing;

/// <summary>A team (cost centre) as <c>PUT /v1/teams/{team}</c> and <c>GET /v1/teams</c> answer it.</summary>
public sealed record TeamView(string Team, string Name, string CostCenter, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Parent,
    IReadOnlyList<string> Tenants);

/// <summary>A tenant's team and every earlier mapping, newest last (<c>GET /v1/tenants/{tenant}/team</c>).</summary>
public sealed record TenantTeamView(string Tenant, string Team, IReadOnlyList<TenantTeamChange> History);

public sealed record TenantTeamChange(string Team, DateTimeOffset At, string By);

public static class CapacityModes
{
    /// <summary>The idle share is reported on statements but not posted.</summary>
    public const string Showback = "showback";
    /// <summary>The idle share is posted to the teams' expense accounts.</summary>
    public const string Chargeback = "chargeback";
}

/// <summary>What the platform paid for a month's GPU capacity, and how its idle part is allocated.</summary>
public sealed record CapacityCostView(string Period, string Mode, IReadOnlyList<CapacityAllocationView> Items, DateTimeOffset RecordedAt);

/// <summary>
/// One GPU type's capacity: provisioned hours and their cost; the hours metered as <c>gpu_seconds</c> in the month;
/// the idle cost = round_half_even(cost × idle hours ÷ provisioned hours, 2), allocated to teams by their metered use.
/// </summary>
public sealed record CapacityAllocationView(string GpuType, decimal GpuHours, string Cost, decimal MeteredHours, decimal IdleHours, string IdleCost,
    IReadOnlyList<TeamShareView> Shares);

public sealed record TeamShareView(string Team, decimal MeteredHours, string Amount);

/// <summary>Response of <c>GET /v1/chargeback/{period}</c>: every team's statement of the month, parents rolled up.</summary>
public sealed record ChargebackStatementView(string Period, string Currency, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Mode,
    IReadOnlyList<TeamStatementView> Teams, string Total, bool LedgerCurrent);

public sealed record TeamStatementView(
    string Team,
    string Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? CostCenter,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Parent,
    IReadOnlyList<string> Tenants,
    IReadOnlyList<StatementUsageView> Usage,
    StatementAmounts Own,
    StatementAmounts RolledUp);

/// <summary>
/// Direct cost: the team's usage of the month; corrections: late usage and voids of earlier, finalized months;
/// idle cost: its share of idle GPU capacity (in the total only in chargeback mode).
/// </summary>
public sealed record StatementAmounts(string DirectCost, string Corrections, string IdleCost, string Total);

public sealed record StatementUsageView(string Meter, string? Model, string? GpuType, string? AdjustmentFor, decimal Quantity, string Cost);

/// <summary>Response of <c>GET /v1/reconciliation/{period}</c>: the same month's money counted four independent ways.</summary>
public sealed record ReconciliationView(
    string Period,
    string Currency,
    string UsagePriced,
    string Invoices,
    string LedgerDebits,
    string LedgerCredits,
    string Statements,
    ReconciliationCapacity? Capacity,
    ReconciliationCounts Counts,
    IReadOnlyList<UnpricedUsageView> Unpriced,
    IReadOnlyList<ReconciliationDifference> Differences,
    bool Balanced,
    bool LedgerCurrent);

public sealed record ReconciliationCapacity(string Mode, string Cost, string IdleCost, string Allocated, string Posted);

/// <summary>
/// About the usage whose timestamp is in the month: accepted: recorded (once each, late ones included); duplicates:
/// redeliveries and re-sends dropped; late: arrived after the month's invoice was finalized (posted on a later month);
/// voided: voided since. rejected: the events that broke the usage rules — those Ingest refused with 400 (by their
/// timestamp where readable) and the usage-topic records a consumer group set apart for it. Records on the usage topic
/// produced in the month and set apart by a consumer group, each counted once however many groups set it apart:
/// refused (valid, but a consumer's store refused them, so at least one of budgets and invoices does not count them)
/// and dead_lettered (every one: rejected, refused or unreadable; not Ingest's refusals, which never reached the topic).
/// </summary>
public sealed record ReconciliationCounts(long Accepted, long Duplicates, long Rejected, long DeadLettered, long Late, long Voided, long Refused);

/// <summary>Usage on the month's invoices with no price in effect: it costs nothing until a rate-card version covers it.</summary>
public sealed record UnpricedUsageView(string Tenant, string Meter, string? Model, string? GpuType, string? AdjustmentFor, decimal Quantity);

/// <summary>Where two ways of counting disagree: what was compared, for which tenant (if one), by how much.</summary>
public sealed record ReconciliationDifference(string Check, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Tenant,
    string Expected, string Actual);

/// <summary>Response of <c>GET /v1/teams</c>: every team, by id.</summary>
public sealed record TeamsView(IReadOnlyList<TeamView> Teams);

/// <summary>Body of <c>PUT /v1/capacity-cost/{period}</c>: what the platform paid for the month's GPU capacity.</summary>
public sealed record CapacityCostRequest(string Mode, IReadOnlyList<CapacityCostItemView> Items);

/// <summary>One GPU type's provisioned hours and what they cost (money as a decimal string).</summary>
public sealed record CapacityCostItemView(string GpuType, decimal GpuHours, string Cost);

/// <summary>Response of <c>PUT /v1/capacity-cost/{period}</c>: the capacity cost as recorded.</summary>
public sealed record CapacityCostRecordedView(string Period, string Mode, IReadOnlyList<CapacityCostItemView> Items, DateTimeOffset RecordedAt);

/// <summary>Body of <c>PUT /v1/teams/{team}</c>: a team (cost centre), optionally below a parent team.</summary>
public sealed record TeamRequest(string Name, string CostCenter, string? Parent = null);

/// <summary>Body of <c>PUT /v1/tenants/{tenant}/team</c>: the team the tenant's cost is charged to.</summary>
public sealed record TenantTeamRequest(string Team);
