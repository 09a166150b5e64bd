namespace Metering.Budgets.TenantBudgets;

/// <summary>The problem answers every Budgets endpoint shares.</summary>
public static class BudgetProblems
{
    public static IResult Invalid(IEnumerable<FieldError> errors, int statusCode = StatusCodes.Status400BadRequest) =>
        Results.ValidationProblem(FieldError.ByField(errors), statusCode: statusCode,
            title: "The request is invalid; nothing was changed.");

    /// <summary>
    /// 503 with <c>Retry-After</c> while the tenant's grain moves to another silo (one died or is leaving): a moment later it
    /// answers. A database outage is left to the one handler of every service (<see cref="DatabaseOutage"/>).
    /// </summary>
    public static async Task<IResult> OrUnavailable(Func<Task<IResult>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException && !DatabaseOutage.Is(ex))
        {
            return RetryLater.Problem("Budget temporarily unavailable", "The tenant's budget is moving between silos; retry in a few seconds.");
        }
    }
}
