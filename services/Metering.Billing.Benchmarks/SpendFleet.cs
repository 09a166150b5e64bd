using Metering.Billing.Chargeback.Teams;
using Metering.Billing.RateCards;
using Metering.Billing.TenantMonths;
using Metering.Contracts.Usage;
using Metering.Pricing;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// The spend benchmark's synthetic fleet, the same for a seed: 50 teams in three levels (5 divisions, 15 departments,
/// 30 squads), tenants mapped to them (a few left unallocated), a rate card whose second version starts mid-month, and
/// usage over the 30 UTC days of November 2026 in time order, with a Zipf-like skew so a few tenants are much bigger.
/// </summary>
public sealed class SpendFleet
{
    public static readonly DateOnly First = new(2026, 11, 1);
    public static readonly DateOnly Last = new(2026, 11, 30);
    public static readonly DateOnly SecondVersionFrom = new(2026, 11, 16);
    public const int Days = 30;

    private static readonly string[] Models = ["llama-4-70b", "llama-4-8b", "qwen3-32b", "mistral-large-3", "deepseek-v3", "gpt-oss-120b"];
    private static readonly string[] GpuTypes = ["h100", "h200", "a100", "l40s"];
    private static readonly string[] Services = ["chat-api", "batch", "embeddings", "agents"];
    private static readonly string[] Features = ["search", "summarize", "support-bot", "code-review", "translate", "classify", "extract", "draft"];

    private readonly TenantProfile[] _tenants;
    private readonly double[] _cumulativeWeight;
    private readonly int _seed;

    public SpendFleet(int tenants, int seed = 15)
    {
        _seed = seed;
        var random = new Random(seed);
        Teams = DefineTeams();
        var squads = Teams.Where(t => t.Team.Contains("-squad-", StringComparison.Ordinal)).Select(t => t.Team).ToArray();
        var departments = Teams.Where(t => t.Parent is not null && !squads.Contains(t.Team)).Select(t => t.Team).ToArray();
        _tenants = new TenantProfile[tenants];
        _cumulativeWeight = new double[tenants];
        double total = 0;
        for (var i = 0; i < tenants; i++)
        {
            // Mostly squads, some departments, 1 % unallocated.
            var draw = random.NextDouble();
            var team = draw < 0.01 ? TeamDirectory.Unallocated : draw < 0.85 ? squads[random.Next(squads.Length)] : departments[random.Next(departments.Length)];
            _tenants[i] = new TenantProfile($"tenant-{i:D5}", team,
                Pick(random, Models, 1 + random.Next(3)), random.NextDouble() < 0.3 ? Pick(random, GpuTypes, 1 + random.Next(2)) : [],
                Pick(random, Services, 1 + random.Next(2)), Pick(random, Features, 1 + random.Next(3)));
            total += 1 / Math.Pow(i + 1, 0.9);
            _cumulativeWeight[i] = total;
        }
    }

    public IReadOnlyList<TeamDefined> Teams { get; }

    public IReadOnlyList<TenantProfile> Tenants => _tenants;

    /// <summary>The biggest tenant (the skew's first rank): the worst case of a one-tenant query.</summary>
    public TenantProfile Biggest => _tenants[0];

    public IEnumerable<TenantTeamAssigned> Assignments() =>
        _tenants.Where(t => t.Team != TeamDirectory.Unallocated).Select(t => new TenantTeamAssigned(t.Tenant, t.Team, Start, "bench"));

    /// <summary>Two versions: every model, meter and GPU type priced; the second, from the 16th, cheaper tokens and dearer GPUs.</summary>
    public IEnumerable<RateCardVersionAdded> RateCard()
    {
        for (var version = 1; version <= 2; version++)
        {
            var factor = version == 1 ? 1m : 0.8m;
            var prices = new List<RateCardPrice>();
            for (var m = 0; m < Models.Length; m++)
            {
                var input = 0.10m + m * 0.35m;
                prices.Add(new RateCardPrice(Meters.InputTokens, Models[m], null, input * factor));
                prices.Add(new RateCardPrice(Meters.CachedInputTokens, Models[m], null, input / 4 * factor));
                prices.Add(new RateCardPrice(Meters.OutputTokens, Models[m], null, input * 4 * factor));
            }
            for (var g = 0; g < GpuTypes.Length; g++)
                prices.Add(new RateCardPrice(Meters.GpuSeconds, null, GpuTypes[g], (1.20m + g * 0.75m) * (version == 1 ? 1m : 1.1m)));
            yield return new RateCardVersionAdded(version, Money.Currency, version == 1 ? First : SecondVersionFrom, prices, Start, "bench");
        }
    }

    /// <summary>
    /// <paramref name="events"/> usage events in time order, each with its tenant and team; weekdays busier than weekends.
    /// A tenant's event draws a meter, model or GPU type, service and feature (none for 10 %) from its profile.
    /// </summary>
    public IEnumerable<(TenantProfile Tenant, RecordedUsage Usage)> Usage(int events)
    {
        var random = new Random(_seed + 1);
        var dayWeights = Enumerable.Range(0, Days).Select(d => First.AddDays(d).DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.6 : 1.0).ToArray();
        var weightSum = dayWeights.Sum();
        var emitted = 0;
        for (var d = 0; d < Days; d++)
        {
            var count = d == Days - 1 ? events - emitted : (int)(events * dayWeights[d] / weightSum);
            var dayStart = Start.AddDays(d);
            for (var i = 0; i < count; i++)
            {
                var tenant = _tenants[TenantIndex(random.NextDouble() * _cumulativeWeight[^1])];
                var at = dayStart.AddTicks(TimeSpan.TicksPerDay / count * i);
                var service = tenant.Services[random.Next(tenant.Services.Length)];
                var feature = random.NextDouble() < 0.1 ? null : tenant.Features[random.Next(tenant.Features.Length)];
                var id = $"u{emitted + i}";
                RecordedUsage usage;
                if (tenant.GpuTypes.Length > 0 && random.NextDouble() < 0.2)
                    usage = new RecordedUsage(id, Meters.GpuSeconds, Math.Round((decimal)(random.NextDouble() * 120), 3), at, null,
                        tenant.GpuTypes[random.Next(tenant.GpuTypes.Length)], service, feature);
                else
                {
                    var draw = random.NextDouble();
                    var meter = draw < 0.45 ? Meters.InputTokens : draw < 0.8 ? Meters.OutputTokens : Meters.CachedInputTokens;
                    usage = new RecordedUsage(id, meter, random.Next(1, 20_000), at, tenant.Models[random.Next(tenant.Models.Length)], null, service, feature);
                }
                yield return (tenant, usage);
            }
            emitted += count;
        }
    }

    private static DateTimeOffset Start => new(First.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private int TenantIndex(double point)
    {
        var index = Array.BinarySearch(_cumulativeWeight, point);
        return Math.Min(index >= 0 ? index : ~index, _cumulativeWeight.Length - 1);
    }

    private static string[] Pick(Random random, string[] from, int count) => from.OrderBy(_ => random.Next()).Take(count).ToArray();

    /// <summary>5 divisions, each with 3 departments, each with 2 squads.</summary>
    private static List<TeamDefined> DefineTeams()
    {
        var teams = new List<TeamDefined>();
        for (var d = 1; d <= 5; d++)
        {
            var division = $"division-{d}";
            teams.Add(new TeamDefined(division, $"Division {d}", $"CC-{d}00", null, Start, "bench"));
            for (var p = 1; p <= 3; p++)
            {
                var department = $"{division}-dept-{p}";
                teams.Add(new TeamDefined(department, $"Department {d}.{p}", $"CC-{d}{p}0", division, Start, "bench"));
                for (var s = 1; s <= 2; s++)
                    teams.Add(new TeamDefined($"{department}-squad-{s}", $"Squad {d}.{p}.{s}", $"CC-{d}{p}{s}", department, Start, "bench"));
            }
        }
        return teams;
    }
}

public sealed record TenantProfile(string Tenant, string Team, string[] Models, string[] GpuTypes, string[] Services, string[] Features);
