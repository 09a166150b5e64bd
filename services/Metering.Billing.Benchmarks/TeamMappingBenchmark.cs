using System.Diagnostics;
using System.Globalization;
using Marten;
using Metering.Benchmarks;
using Metering.Billing.Chargeback.Teams;
using Metering.Contracts.Usage;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// <c>./metering bench teams [TENANTS]</c>: on a schema of its own, maps tenants to teams in bulk up to each level (1,000
/// and TENANTS), and at each level times <see cref="Samples"/> more mappings one at a time through the writer
/// (<see cref="TeamWrites.AssignAsync"/>, what <c>PUT /v1/tenants/{tenant}/team</c> runs): the cost of one mapping as
/// the number of mapped tenants grows.
/// </summary>
public static class TeamMappingBenchmark
{
    public const int Samples = 200;
    private const int Teams = 20;
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);

    public static async Task<string> RunAsync(string postgres, int tenants, CancellationToken ct, TextWriter? progress = null, BenchmarkSummary? summary = null)
    {
        summary ??= new BenchmarkSummary();
        var report = new List<string> { $"team mapping benchmark {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z on {Environment.ProcessorCount} cores, up to {tenants:N0} mapped tenants" };
        await using var bench = await BenchmarkSchema.CreateAsync(postgres, "teams_bench");
        var (_, store, dataSource) = bench;
        var writer = new BillingWriter(store, new BillingDatabase(dataSource));
        var now = DateTimeOffset.UtcNow;
        for (var t = 0; t < Teams; t++)
        {
            var errors = new List<FieldError>();
            if (await TeamWrites.DefineAsync(writer, $"team-{t}", new TeamFields($"Team {t}", $"CC-{t}", null), "bench", now, errors, ct) is null)
                throw new InvalidOperationException(string.Join("; ", errors));
        }

        var mapped = 0;
        foreach (var level in new[] { 1_000, tenants }.Where(l => l <= tenants).Distinct())
        {
            var clock = Stopwatch.StartNew();
            var nextProgress = ProgressEvery;
            foreach (var chunk in Enumerable.Range(mapped, Math.Max(0, level - mapped)).Chunk(1_000))
            {
                await using var session = store.LightweightSession();
                session.Events.Append(TeamDirectory.StreamKey, chunk.Select(i => (object)new TenantTeamAssigned(Tenant(i), $"team-{i % Teams}", now, "bench")).ToArray());
                await session.SaveChangesAsync(ct);
                mapped += chunk.Length;
                if (progress is not null && clock.Elapsed >= nextProgress)
                {
                    progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {mapped:N0} of {level:N0} mappings in {clock.Elapsed.TotalSeconds:F0} s"));
                    nextProgress = clock.Elapsed + ProgressEvery;
                }
            }
            progress?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {mapped:N0} mappings in {clock.Elapsed.TotalSeconds:F1} s; timing {Samples} more"));

            var times = new List<double>();
            for (var s = 0; s < Samples; s++)
            {
                var errors = new List<FieldError>();
                var started = Stopwatch.GetTimestamp();
                if (await TeamWrites.AssignAsync(writer, Tenant(mapped), $"team-{mapped % Teams}", "bench", now, errors, ct) is null)
                    throw new InvalidOperationException(string.Join("; ", errors));
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                mapped++;
            }
            times.Sort();
            report.Add(string.Create(CultureInfo.InvariantCulture,
                $"map one tenant with {level:N0} mapped: mean {times.Average():F2} ms, p50 {times[Samples / 2 - 1]:F2} ms, p99 {times[Samples * 99 / 100 - 1]:F2} ms ({Samples} mappings one at a time)"));
            progress?.WriteLine(report[^1]);
            summary.Add($"map one at {level} mean", times.Average(), "ms", "F2");
            summary.Add($"map one at {level} p50", times[Samples / 2 - 1], "ms", "F2");
            summary.Add($"map one at {level} p99", times[Samples * 99 / 100 - 1], "ms", "F2");
        }
        return string.Join(Environment.NewLine, report);
    }

    private static string Tenant(int i) => $"bench-tenant-{i:D6}";
}
