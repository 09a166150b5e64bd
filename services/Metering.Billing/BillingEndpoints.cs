namespace Metering.Billing;

/// <summary>
/// What Billing's endpoints share: how an admin <c>PUT</c> of a JSON body (team, tenant mapping, capacity cost, rate card)
/// is declared — admin only, the body's limit and shape, the view answered, 503 while the database is away — and the 400
/// (413, 415 for a body) naming each field, titled with what was not done.
/// </summary>
public static class BillingEndpoints
{
    public static RouteHandlerBuilder MapAdminPut<TRequest, TView>(this IEndpointRouteBuilder app, string pattern, Delegate handler, long maxBodyBytes,
        string name, string tag, string summary) where TRequest : notnull =>
        app.MapPut(pattern, handler).RequireAuthorization(Policies.Admin).WithBodyLimit(maxBodyBytes)
            .WithName(name).WithTags(tag).WithSummary(summary)
            .AcceptsJson<TRequest>().Produces<TView>().ProducesRetryLater();

    public static IResult Invalid(IEnumerable<FieldError> errors, string title, int statusCode = StatusCodes.Status400BadRequest) =>
        Results.ValidationProblem(FieldError.ByField(errors), statusCode: statusCode, title: title);

    /// <summary>200 with what was written, or the 400 of the <paramref name="errors"/> that kept it from being written.</summary>
    public static IResult Written<TView>(TView? view, IEnumerable<FieldError> errors, string title) where TView : class =>
        view is not null ? Results.Ok(view) : Invalid(errors, title);
}
