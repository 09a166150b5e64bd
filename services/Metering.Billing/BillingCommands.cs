using System.CommandLine;
using System.CommandLine.Invocation;
using Metering.Billing.Rebuilds;

namespace Metering.Billing;

/// <summary>
/// Billing's commands beside the service: <c>rebuild</c> (every projection from the event store, then exit; stop
/// Billing's consumers first) and <c>migrate</c> (create or update the schema, then exit). <c>migrate</c> has no action
/// here: it is the host itself, started briefly (Program.cs). Billing's benchmarks and reports live in
/// Metering.Billing.Benchmarks.
/// </summary>
public static class BillingCommands
{
    /// <summary>A command line for these commands, not the host's configuration: it starts with a word or asks for help.</summary>
    public static bool IsCommandLine(string[] args) => args is [var first, ..] && (!first.StartsWith('-') || first is "--help" or "-h" or "-?");

    /// <summary>Parses a command line; a parse error then prints the errors, not the whole help.</summary>
    public static ParseResult Parse(IReadOnlyList<string> args)
    {
        var result = Create().Parse(args);
        if (result.Action is ParseErrorAction errors) errors.ShowHelp = false;
        return result;
    }

    public static RootCommand Create()
    {
        var rebuild = new Command("rebuild", "Rebuild every Billing projection from the event store, then exit (stop Billing's consumers first).");
        rebuild.SetAction((_, ct) => RebuildAsync(ct));
        var migrate = new Command("migrate", "Create or update Billing's schema (event store, documents, outbox), then exit.");
        return new RootCommand("Billing: usage in the Marten event store, invoices, spend and chargeback. Without a command it runs the service.")
        {
            rebuild, migrate,
        };
    }

    private static async Task RebuildAsync(CancellationToken ct)
    {
        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole());
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        using var store = DocumentStore.For(opts => BillingStore.Configure(opts, MeteringSettings.Postgres(configuration)));
        await ProjectionRebuild.RunAsync(store, loggers.CreateLogger("rebuild"), ct);
    }
}
