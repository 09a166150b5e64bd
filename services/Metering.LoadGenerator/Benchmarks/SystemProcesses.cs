using Npgsql;

namespace Metering.LoadGenerator.Benchmarks;

/// <summary>The processes of the system under test, by role, as the benchmarks measure their CPU.</summary>
public sealed record SystemProcesses
{
    public int Ingest { get; init; }
    public int Budgets { get; init; }
    public int Billing { get; init; }
    public int Broker { get; init; }
    /// <summary>An Npgsql connection string to the benchmark's database; its backends are found in <c>pg_stat_activity</c>.</summary>
    public string Postgres { get; init; } = "";
    /// <summary>The server serves other databases too: its shared processes (postmaster, background) are printed apart from the sum.</summary>
    public bool PostgresShared { get; init; }

    /// <summary>
    /// The groups: each service, the broker, PostgreSQL (the database's backends, and the server's postmaster and
    /// background processes: counted when the server is the benchmark's own), and the load generator with <paramref name="loadGenerator"/>'s extra processes.
    /// </summary>
    public IReadOnlyList<CpuGroup> Groups(Func<IReadOnlyCollection<int>>? loadGenerator = null)
    {
        var groups = new List<CpuGroup> { CpuGroup.Of("ingest", Ingest), CpuGroup.Of("budgets", Budgets), CpuGroup.Of("billing", Billing), CpuGroup.Of("broker", Broker) };
        if (Postgres != "")
        {
            groups.Add(new CpuGroup("postgres", ct => PostgresPidsAsync(background: false, ct)));
            groups.Add(new CpuGroup(PostgresShared ? "postgres shared server" : "postgres server", ct => PostgresPidsAsync(background: true, ct), Counted: !PostgresShared));
        }
        groups.Add(new CpuGroup("load generator", _ => Task.FromResult<IReadOnlyCollection<int>>([Environment.ProcessId, .. loadGenerator?.Invoke() ?? []])));
        return groups;
    }

    /// <summary>Backends of this database (and parallel workers, autovacuum of it), or the server's postmaster and background processes.</summary>
    private async Task<IReadOnlyCollection<int>> PostgresPidsAsync(bool background, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(background
            ? "select pid from pg_stat_activity where datname is null"
            : "select pid from pg_stat_activity where datname = current_database()", connection);
        var pids = new List<int>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) pids.Add(reader.GetInt32(0));
        if (background && pids.Count > 0 && ProcStat.Read(pids[0]) is { } child) pids.Add(child.ParentPid);
        return pids;
    }
}
