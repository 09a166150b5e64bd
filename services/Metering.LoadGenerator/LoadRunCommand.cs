using System.CommandLine;
using Metering.Emitter;
using Metering.LoadGenerator.Benchmarks;
using Metering.LoadGenerator.CommandLine;

namespace Metering.LoadGenerator;

/// <summary>
/// The load generator's own command: the simulated fleet sends usage at a steady rate for a while, prints what it had
/// confirmed, and with <c>--verify</c> waits until Budgets and Billing show exactly that. The benchmarks are its
/// <c>bench</c> subcommands. The first Ctrl-C (or, with <c>--stop-at-end-of-input</c>, the end of standard input, as a
/// benchmark stops its fleet) stops sending and reports what was sent; a second Ctrl-C ends the process.
/// </summary>
public sealed class LoadRunCommand : RootCommand
{
    public static readonly TimeSpan VerificationPatience = TimeSpan.FromSeconds(120);

    private readonly Option<double> _rate = CommandOptions.Number("--rate", 1000d, 0.001, "events per second");
    private readonly Option<double> _duration = CommandOptions.Number("--duration", 10d, 0.001, "seconds to send for");
    private readonly Option<int> _tenants = CommandOptions.Number("--tenants", 20, 1, "tenants in the fleet");
    private readonly Option<long> _maxEvents = CommandOptions.Number("--max-events", 0L, 0L, "stop after this many events (0: no limit)");
    private readonly Option<int> _seed = new("--seed") { Description = "the fleet's random seed", DefaultValueFactory = _ => 42 };
    private readonly Option<int> _batch = CommandOptions.Batch();
    private readonly Option<double> _linger = CommandOptions.LingerMs();
    private readonly Option<string> _tenantPrefix = new("--tenant-prefix") { Description = "prefix of the tenants' ids", DefaultValueFactory = _ => "tenant-" };
    private readonly Option<string> _via = CommandOptions.Via();
    private readonly Option<Uri> _ingest = CommandOptions.Ingest();
    private readonly Option<string> _token = CommandOptions.EmitterToken();
    private readonly Option<string> _bootstrap = CommandOptions.Bootstrap();
    private readonly Option<FileInfo> _report = new("--report") { Description = "also write what was sent to this JSON file" };
    private readonly Option<bool> _verify = new("--verify") { Description = "afterwards, wait until Budgets and Billing show exactly what was sent (exit code 1 if they do not)" };
    private readonly Option<Uri> _budgets = CommandOptions.Budgets();
    private readonly Option<Uri> _billing = CommandOptions.Billing();
    private readonly Option<string> _adminToken = CommandOptions.AdminToken();
    private readonly Option<bool> _stopAtEndOfInput = new("--stop-at-end-of-input")
    {
        Description = "also stop as the first Ctrl-C does when standard input ends (how a benchmark stops its fleet: a job started in the background ignores SIGINT)",
    };

    public LoadRunCommand() : base("Simulates a fleet of inference services emitting usage and reports exactly what it sent.")
    {
        foreach (var option in new Option[] { _rate, _duration, _tenants, _batch, _linger, _via, _ingest, _token, _bootstrap, _maxEvents, _seed, _tenantPrefix, _report, _verify, _budgets, _billing, _adminToken, _stopAtEndOfInput })
            Options.Add(option);
        Subcommands.Add(new BenchCommand());
        SetAction(RunAsync);
    }

    public LoadOptions LoadOptions(ParseResult result) => new()
    {
        EventsPerSecond = result.GetValue(_rate),
        Duration = TimeSpan.FromSeconds(result.GetValue(_duration)),
        MaxEvents = result.GetValue(_maxEvents),
        Tenants = result.GetValue(_tenants),
        TenantPrefix = result.GetValue(_tenantPrefix)!,
        Seed = result.GetValue(_seed),
        BatchSize = result.GetValue(_batch),
        Linger = TimeSpan.FromMilliseconds(result.GetValue(_linger)),
    };

    /// <summary>A new sink of the kind <c>--via</c> names, with the command line's address and token.</summary>
    public static IUsageSink NewSink(string via, Uri ingest, string token, string bootstrap) => via switch
    {
        // The fleet never asks whether a tenant is throttled, so it follows no budget statuses (a consumer and its polling fewer).
        "kafka" => new EmitterSink(new UsageEmitterOptions { BootstrapServers = bootstrap, ClientId = "metering-load-generator", WatchThrottles = false }),
        _ => new HttpSink(ingest, token),
    };

    private async Task<int> RunAsync(ParseResult result, CancellationToken ct)
    {
        var options = LoadOptions(result);
        var via = result.GetValue(_via)!;
        await using var sink = NewSink(via, result.GetValue(_ingest)!, CommandOptions.EmitterTokenOf(result, _token), CommandOptions.BootstrapOf(result, _bootstrap));

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = !stop.IsCancellationRequested;
            stop.Cancel();
        };
        if (result.GetValue(_stopAtEndOfInput))
            _ = Task.Run(async () =>
            {
                while (await Console.In.ReadLineAsync(CancellationToken.None) is not null)
                {
                }
                await stop.CancelAsync();
            }, CancellationToken.None);
        var output = result.InvocationConfiguration.Output;
        output.WriteLine($"sending {options.EventsPerSecond} events/s for {options.Duration.TotalSeconds} s to {options.Tenants} tenants via {via}, {options.BatchSize} events per request");
        var report = await LoadRun.RunAsync(options, sink, stop.Token, result.InvocationConfiguration.Error);
        output.Write(report.ToTable());
        if (result.GetValue(_report) is { } file) await File.WriteAllTextAsync(file.FullName, report.ToJson(), CancellationToken.None);

        if (!result.GetValue(_verify) || stop.IsCancellationRequested) return 0;
        using var verification = new Verification(result.GetValue(_budgets)!, result.GetValue(_billing)!, CommandOptions.AdminTokenOf(result, _adminToken));
        var lines = await verification.WaitForMatchAsync(report, VerificationPatience, stop.Token, result.InvocationConfiguration.Error);
        output.Write(Verification.ToTable(lines));
        return lines.All(l => l.Matches) ? 0 : 1;
    }
}
