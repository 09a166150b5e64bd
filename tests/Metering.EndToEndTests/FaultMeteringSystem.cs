namespace Metering.EndToEndTests;

/// <summary>
/// A system on a PostgreSQL of its own (<see cref="OwnPostgres"/>) and, like every system, a broker of its own, so that
/// the fault tests can stop, freeze and restart them; nothing else runs on either.
/// </summary>
public sealed class FaultMeteringSystem : MeteringSystem
{
    /// <summary>
    /// The consumers' store timeout, shortened from its 60 s default so that a test can hang PostgreSQL for longer
    /// than it within a reasonable time; still far above the milliseconds a batch takes on a quiet machine.
    /// </summary>
    public static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(5);

    public OwnPostgres Postgres { get; private set; } = null!;

    protected override bool ExportsTelemetry => false;

    protected override IReadOnlyDictionary<string, string> ExtraEnvironment { get; } = new Dictionary<string, string>
    {
        ["METERING_USAGE_STORE_TIMEOUT_SECONDS"] = StoreTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    protected override async Task<(string ConnectionString, IAsyncDisposable Owner)> CreateDatabaseAsync()
    {
        Postgres = await OwnPostgres.StartAsync();
        return (await Postgres.CreateDatabaseAsync("metering"), Postgres);
    }

    /// <summary>Every service answers ready: a fault test starts only on a system that recovered from the one before.</summary>
    public Task WaitUntilAllReadyAsync(TimeSpan timeout) =>
        Task.WhenAll(new[] { Ingest, Budgets, Billing }.Select(s => s.WaitUntilReadyAsync(Http, timeout)));
}

[CollectionDefinition(Name)]
public sealed class FaultSystemCollection : ICollectionFixture<FaultMeteringSystem>
{
    public const string Name = "fault metering system";
}
