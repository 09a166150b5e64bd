using System.CommandLine;
using System.CommandLine.Invocation;
using System.Numerics;

namespace Metering.LoadGenerator.CommandLine;

/// <summary>
/// Options several commands take: where the running system is, how to sign in, numbers with a lower bound. A token's
/// or connection string's default comes from the environment when the command runs and is never shown in help.
/// </summary>
public static class CommandOptions
{
    public const string AdminTokenVariable = "METERING_ADMIN_TOKEN";
    public const string EmitterTokenVariable = "METERING_EMITTER_TOKEN";

    public static Option<Uri> Ingest() => Url("--ingest", "http://127.0.0.1:5080", "Ingest's base URL");

    public static Option<Uri> Budgets() => Url("--budgets", "http://127.0.0.1:5081", "Budgets' base URL");

    public static Option<Uri> Billing() => Url("--billing", "http://127.0.0.1:5082", "Billing's base URL");

    public static Option<Uri> Console() => Url("--console", "http://127.0.0.1:5083", "the console host's base URL");

    public static Option<string> EmitterToken() =>
        new("--token") { Description = $"the emitter's bearer token for Ingest (default: ${EmitterTokenVariable}, else dev-emitter-token)" };

    public static Option<string> AdminToken() =>
        new("--admin-token") { Description = $"the admin bearer token (default: ${AdminTokenVariable}, else dev-admin-token)" };

    public static Option<string> Bootstrap() =>
        new("--bootstrap") { Description = "Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092)" };

    /// <summary><c>http</c> (Ingest's API) or <c>kafka</c> (the emitter library, as inference services send).</summary>
    public static Option<string> Via(string name = "--via", string fallback = "http")
    {
        var option = new Option<string>(name) { Description = "how usage is sent: http (Ingest) or kafka (the emitter library)", DefaultValueFactory = _ => fallback };
        option.AcceptOnlyFromAmong("http", "kafka");
        return option;
    }

    public static Option<int> Batch(int fallback = LoadRun.DefaultBatchSize) =>
        Number("--batch", fallback, 1, "events per request (a request is sent when it is full or has lingered)");

    public static Option<double> LingerMs() =>
        Number("--linger-ms", LoadRun.DefaultLinger.TotalMilliseconds, 0d, "milliseconds a request waits to fill before it is sent anyway");

    public static Option<string> Results() =>
        new("--results") { Description = "folder the results file is written to", DefaultValueFactory = _ => Path.Combine(".metering", "bench") };

    public static string EmitterTokenOf(ParseResult result, Option<string> token) =>
        NonEmpty(result.GetValue(token)) ?? NonEmpty(Environment.GetEnvironmentVariable(EmitterTokenVariable)) ?? "dev-emitter-token";

    public static string AdminTokenOf(ParseResult result, Option<string> token) =>
        NonEmpty(result.GetValue(token)) ?? NonEmpty(Environment.GetEnvironmentVariable(AdminTokenVariable)) ?? "dev-admin-token";

    public static string BootstrapOf(ParseResult result, Option<string> bootstrap) =>
        NonEmpty(result.GetValue(bootstrap)) ?? NonEmpty(Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS")) ?? "127.0.0.1:9092";

    /// <summary>A number option with a default and a lower bound; a value that is not a number or is below it is an error naming the option.</summary>
    public static Option<T> Number<T>(string name, T fallback, T minimum, string description) where T : INumber<T> => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = result =>
        {
            if (result.Tokens is not [var token]) return fallback;
            if (!T.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                result.AddError($"{name} must be a number, not '{token.Value}'.");
            else if (value < minimum)
                result.AddError($"{name} must be at least {minimum.ToString(null, CultureInfo.InvariantCulture)}, not {token.Value}.");
            return value ?? fallback;
        },
    };

    /// <summary>Parses a command line; a parse error then prints the errors (and likely corrections of a mistyped option), not the whole help.</summary>
    public static ParseResult ParseCommandLine(this Command command, IReadOnlyList<string> args)
    {
        var result = command.Parse(args);
        if (result.Action is ParseErrorAction errors) errors.ShowHelp = false;
        return result;
    }

    private static Option<Uri> Url(string name, string fallback, string description)
    {
        var option = new Option<Uri>(name)
        {
            Description = description,
            DefaultValueFactory = _ => new Uri(fallback),
            CustomParser = result =>
            {
                if (result.Tokens is not [var token]) return new Uri(fallback);
                var text = token.Value;
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return uri;
                result.AddError($"{name} must be an http or https URL, not '{text}'.");
                return null;
            },
        };
        return option;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
