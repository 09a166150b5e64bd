using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Metering.ServiceDefaults;

/// <summary>
/// Which failures mean "PostgreSQL cannot be reached right now" rather than a fault of the request or of the code: the
/// server refuses or drops connections, is shutting down or starting up, or has no connection slot left.
/// </summary>
public static class DatabaseOutage
{
    /// <summary>Admin shutdown, crash shutdown, "cannot connect now" (starting up or shutting down).</summary>
    private static readonly string[] ShutdownStates = ["57P01", "57P02", "57P03"];

    /// <summary>The exception, or one it wraps (Marten, Wolverine and Orleans wrap what Npgsql throws), is an outage.</summary>
    public static bool Is(Exception exception) => Chain(exception).Any(IsOutage);

    private static bool IsOutage(Exception exception) => exception switch
    {
        // Connection exceptions (class 08), insufficient resources (class 53: too many connections, out of memory or disk), shutdowns.
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState.StartsWith("53", StringComparison.Ordinal)
            || ShutdownStates.Contains(postgres.SqlState),
        // Npgsql's own errors: refused or broken sockets, timeouts opening a connection, a pool that cannot open one.
        NpgsqlException npgsql => npgsql.InnerException is SocketException or IOException or TimeoutException || npgsql.IsTransient,
        _ => false,
    };

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        var pending = new Stack<Exception>([exception]);
        var depth = 0;
        while (pending.Count > 0 && depth++ < 32)
        {
            var next = pending.Pop();
            yield return next;
            if (next is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions) pending.Push(inner);
            else if (next.InnerException is { } inner) pending.Push(inner);
        }
    }
}

/// <summary>
/// Every endpoint of every service: a request that fails because PostgreSQL is down answers 503 with <c>Retry-After</c>
/// instead of 500, in this one place (ASP.NET's exception handler middleware calls it before its default 500).
/// </summary>
internal sealed class DatabaseOutageHandler(ILogger<DatabaseOutageHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!DatabaseOutage.Is(exception) || httpContext.Response.HasStarted) return false;
        // The message names the failure (refused, shut down), never the connection string.
        logger.LogWarning("{Method} {Path}: the database is not reachable ({Failure}); answered 503",
            httpContext.Request.Method, httpContext.Request.Path, exception.GetBaseException().Message);
        httpContext.Response.Clear();
        await RetryLater.Problem("Database temporarily unavailable",
            "The service cannot reach its database at the moment; retry the request in a few seconds.").ExecuteAsync(httpContext);
        return true;
    }
}
