using System.CommandLine;
using Metering.LoadGenerator.Benchmarks;

namespace Metering.LoadGenerator.CommandLine;

/// <summary>
/// The system's process ids a benchmark measures the CPU of (<c>./metering bench</c> passes the ones it started; 0: not
/// measured), and whether the PostgreSQL server is shared with other databases.
/// </summary>
public sealed class SystemProcessOptions
{
    private readonly Option<int> _ingest = Pid("--ingest-pid", "Ingest");
    private readonly Option<int> _budgets = Pid("--budgets-pid", "Budgets", " (bench budgets: and its resident memory)");
    private readonly Option<int> _billing = Pid("--billing-pid", "Billing");
    private readonly Option<int> _broker = Pid("--broker-pid", "the Kafka broker");
    private readonly Option<bool> _postgresShared = new("--postgres-shared")
    {
        Description = "the PostgreSQL server serves other databases too: only the benchmark database's backends are counted, the server's own processes are printed apart",
    };

    public IEnumerable<Option> All => [_ingest, _budgets, _billing, _broker, _postgresShared];

    public SystemProcesses Of(ParseResult result, string postgres) => new()
    {
        Ingest = result.GetValue(_ingest),
        Budgets = result.GetValue(_budgets),
        Billing = result.GetValue(_billing),
        Broker = result.GetValue(_broker),
        Postgres = postgres,
        PostgresShared = result.GetValue(_postgresShared),
    };

    private static Option<int> Pid(string name, string what, string also = "") =>
        CommandOptions.Number(name, 0, 0, $"process id of {what}, whose CPU is measured{also} (0: not measured)");
}
