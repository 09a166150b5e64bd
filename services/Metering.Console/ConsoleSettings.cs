namespace Metering.Console;

/// <summary>
/// The variables the console's host reads (besides ASPNETCORE_URLS and the OTEL_* ones): where the built app is, where
/// the three APIs answer, and where Data Protection keeps its keys.
/// </summary>
public static class ConsoleSettings
{
    /// <summary>The built single-page app (Vite's <c>dist/</c>). Default: <c>console/dist</c> of the repository above the host's build output.</summary>
    public const string DistVariable = "METERING_CONSOLE_DIST";
    public const string IngestUrlVariable = "METERING_INGEST_URL";
    public const string BudgetsUrlVariable = "METERING_BUDGETS_URL";
    public const string BillingUrlVariable = "METERING_BILLING_URL";
    /// <summary>
    /// A folder for the Data Protection key ring that encrypts the session cookie. Unset: keys live in memory and every
    /// session ends when the process does; set it (a shared volume) when several replicas must read each other's cookies.
    /// </summary>
    public const string KeysVariable = "METERING_CONSOLE_KEYS";

    public static Uri IngestUrl(IConfiguration configuration) => Url(configuration, IngestUrlVariable, "http://127.0.0.1:5080");
    public static Uri BudgetsUrl(IConfiguration configuration) => Url(configuration, BudgetsUrlVariable, "http://127.0.0.1:5081");
    public static Uri BillingUrl(IConfiguration configuration) => Url(configuration, BillingUrlVariable, "http://127.0.0.1:5082");

    public static string? KeysFolder(IConfiguration configuration) =>
        configuration[KeysVariable] is { Length: > 0 } folder ? Path.GetFullPath(folder) : null;

    /// <summary>An absolute <see cref="DistVariable"/>, one relative to the working directory, or the repository's <c>console/dist</c>.</summary>
    public static string Dist(IConfiguration configuration, string contentRoot)
    {
        if (configuration[DistVariable] is { Length: > 0 } configured) return Path.GetFullPath(configured);
        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Metering.sln"))) return Path.Combine(dir.FullName, "console", "dist");
        return Path.Combine(contentRoot, "dist");
    }

    private static Uri Url(IConfiguration configuration, string variable, string fallback)
    {
        var value = configuration[variable] is { Length: > 0 } configured ? configured.Trim() : fallback;
        return Uri.TryCreate(value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new InvalidOperationException($"{variable} must be an http or https URL such as {fallback}: '{value}'.");
    }
}
