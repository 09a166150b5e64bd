using System.Globalization;
using System.Security.Claims;
using Marten;
using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.TenantMonths;
using Metering.Contracts.Billing;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;

namespace Metering.Billing.Spend;

/// <summary>
/// <c>GET /v1/spend?from=&amp;to=&amp;group_by=&amp;granularity=&amp;tenant=&amp;team=&amp;meter=&amp;model=&amp;gpu_type=</c> (admin,
/// viewer): cost per group and UTC day or month (PRODUCT §5a). A viewer reads its team and the teams below it: without
/// <c>team</c> that subtree, a <c>team</c> outside it or a <c>tenant</c> neither mapped to it now nor charged to it in
/// the range is 403. It waits up to <see cref="ProjectionWait"/> for the spend projection to count what was recorded
/// before the request.
/// </summary>
public static class GetSpend
{
    public const int MaxDays = 400;
    private const string DayRule = "must be a UTC date as YYYY-MM-DD of the years 2000 to 9998";
    public static readonly TimeSpan ProjectionWait = TimeSpan.FromSeconds(2);

    public static void MapGetSpend(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/spend", HandleAsync).RequireAuthorization(Policies.Reader)
            .WithName("GetSpend")
            .WithSummary("Spend per group and UTC day or month, priced with the rate card in effect each day")
            .Produces<SpendView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

    private static async Task<IResult> HandleAsync(string? from, string? to, string? group_by, string? granularity, string? tenant, string? team,
        string? meter, string? model, string? gpu_type, ClaimsPrincipal user, IDocumentStore store, SpendQuery query, CancellationToken ct)
    {
        var (request, errors) = Read(from, to, group_by, granularity, tenant, team, meter, model, gpu_type);
        if (request is null) return Results.ValidationProblem(errors);

        var (_, recorded) = await LedgerProgress.WaitAsync(store, SpendProjection.Name, ProjectionWait, ct);
        var (forbidden, scope) = await SpendScope.OfAsync(user, tenant, team, request.From, request.To, store, query, ct);
        if (forbidden) return BearerTokenHandler.Forbidden();
        request = request with { Team = scope, RecordedThrough = recorded };
        return Results.Ok(await query.RunAsync(request, ct));
    }

    /// <summary>The request when every parameter holds (group_by defaults to tenant, granularity to day), else the errors per parameter.</summary>
    public static (SpendRequest? Request, Dictionary<string, string[]> Errors) Read(string? from, string? to, string? groupBy, string? granularity,
        string? tenant, string? team, string? meter, string? model, string? gpuType)
    {
        var errors = Errors(from, to, groupBy, granularity, tenant, team, meter, model, gpuType);
        return errors.Count > 0 ? (null, errors)
            : (new SpendRequest(Day(from)!.Value, Day(to)!.Value, groupBy ?? SpendGroups.Tenant, granularity ?? SpendGranularity.Day, tenant, team, meter, model, gpuType), errors);
    }

    private static Dictionary<string, string[]> Errors(string? from, string? to, string? groupBy, string? granularity, string? tenant, string? team,
        string? meter, string? model, string? gpuType)
    {
        var errors = new Dictionary<string, string[]>();
        var (first, last) = (Day(from), Day(to));
        if (first is null) errors["from"] = [from is null ? "is required: a UTC date as YYYY-MM-DD" : DayRule];
        if (last is null) errors["to"] = [to is null ? "is required: a UTC date as YYYY-MM-DD" : DayRule];
        if (first is { } f && last is { } l)
        {
            if (l < f) errors["to"] = ["must not be before from"];
            else if (l.DayNumber - f.DayNumber + 1 > MaxDays) errors["to"] = [$"must be at most {MaxDays} days from from, both included"];
        }
        if (groupBy is not null && !SpendGroups.All.Contains(groupBy)) errors["group_by"] = [$"must be one of {string.Join(", ", SpendGroups.All)}"];
        if (granularity is not null && !SpendGranularity.All.Contains(granularity)) errors["granularity"] = ["must be day or month"];
        if (tenant is not null && !UsageEventRules.IsValidTenant(tenant)) errors["tenant"] = [UsageEventRules.TenantRule];
        if (team is not null && !UsageEventRules.IsValidTenant(team)) errors["team"] = [UsageEventRules.TenantRule];
        if (meter is not null && !Meters.IsKnown(meter)) errors["meter"] = [$"must be one of {string.Join(", ", Meters.All)}"];
        if (model is not null && !UsageEventRules.IsValidModel(model)) errors["model"] = [UsageEventRules.ModelRule];
        if (gpuType is not null && !UsageEventRules.IsValidGpuType(gpuType)) errors["gpu_type"] = [UsageEventRules.GpuTypeRule];
        return errors;
    }

    /// <summary>A day of the years 2000 to 9998, like <see cref="BillingPeriod"/>'s months (so the month after it always exists).</summary>
    private static DateOnly? Day(string? text) =>
        text is not null && DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
        && day.Year is >= 2000 and <= 9998 ? day : null;
}
