using System.Globalization;

namespace Metering.ServiceDefaults;

/// <summary>
/// 503 problem+json with a <c>Retry-After</c> header (and the same seconds as <c>retry_after_seconds</c>): the request
/// was fine, something the service depends on is not available for a moment.
/// </summary>
public static class RetryLater
{
    public const int DefaultSeconds = 5;

    public static IResult Problem(string title, string detail, int seconds = DefaultSeconds) => new Result(
        Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: title, detail: detail,
            extensions: new Dictionary<string, object?> { ["retry_after_seconds"] = seconds }),
        seconds);

    /// <summary>For the OpenAPI document: the endpoint may answer <see cref="Problem"/> (the document adds <c>Retry-After</c>).</summary>
    public static RouteHandlerBuilder ProducesRetryLater(this RouteHandlerBuilder builder) =>
        builder.ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    private sealed class Result(IResult problem, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return problem.ExecuteAsync(httpContext);
        }
    }
}
