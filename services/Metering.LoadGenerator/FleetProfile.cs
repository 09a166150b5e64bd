namespace Metering.LoadGenerator;

/// <summary>
/// What a fleet of inference services spends per request: a model served on a GPU type, log-normally distributed
/// prompt and completion lengths, prompt caching for some requests, and GPU time that grows with the tokens.
/// Tenants are weighted like a real platform: a few large ones, a long tail of small ones (Zipf, s = 1).
/// </summary>
public sealed class FleetProfile(int tenants, string tenantPrefix, int seed)
{
    private sealed record ModelProfile(string Name, string GpuType, double SecondsPerInputToken, double SecondsPerOutputToken);

    private static readonly ModelProfile[] Models =
    [
        new("llama-4-70b", "h100", 0.00004, 0.018),
        new("llama-4-8b", "a100", 0.00001, 0.006),
        new("mistral-large-3", "h200", 0.00005, 0.022),
        new("qwen-3-32b", "h100", 0.00003, 0.012),
        new("deepseek-v4", "b200", 0.00006, 0.025),
    ];

    private static readonly string[] Services = ["chat-api", "summarise", "code-assist", "rag-search", "batch-eval"];

    /// <summary>The models the fleet serves and the GPU type each runs on: what a rate card must price.</summary>
    public static IReadOnlyList<(string Model, string GpuType)> Items { get; } = Models.Select(m => (m.Name, m.GpuType)).ToArray();

    private readonly Random _random = new(seed);
    private readonly string[] _tenants = Enumerable.Range(1, tenants).Select(i => $"{tenantPrefix}{i:D3}").ToArray();
    private readonly double[] _cumulativeWeights = Cumulative(tenants);

    public IReadOnlyList<string> Tenants => _tenants;

    /// <summary>The usage events of one inference request: input, output, maybe cached input tokens, and GPU seconds.</summary>
    public IEnumerable<UsageEvent> Request(string idPrefix, DateTimeOffset at)
    {
        var pick = Array.BinarySearch(_cumulativeWeights, _random.NextDouble());
        var tenant = _tenants[pick < 0 ? ~pick : pick];
        var model = Models[_random.Next(Models.Length)];
        var service = Services[_random.Next(Services.Length)];
        var input = LogNormalTokens(median: 900, sigma: 1.1, max: 200_000);
        var output = LogNormalTokens(median: 220, sigma: 0.9, max: 16_000);
        var cached = _random.NextDouble() < 0.3 ? (long)(input * _random.NextDouble()) : 0;
        var gpuSeconds = Math.Round((decimal)(input * model.SecondsPerInputToken + output * model.SecondsPerOutputToken) * (decimal)(0.8 + 0.4 * _random.NextDouble()), 6);

        UsageEvent Event(string suffix, string meter, decimal quantity) =>
            new($"{idPrefix}-{suffix}", tenant, meter, quantity, at, model.Name, meter == Meters.GpuSeconds ? model.GpuType : null, service);

        yield return Event("in", Meters.InputTokens, input);
        yield return Event("out", Meters.OutputTokens, output);
        if (cached > 0) yield return Event("cached", Meters.CachedInputTokens, cached);
        yield return Event("gpu", Meters.GpuSeconds, Math.Max(gpuSeconds, 0.000001m));
    }

    private long LogNormalTokens(double median, double sigma, long max)
    {
        // Box–Muller for a standard normal.
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        var normal = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        return Math.Clamp((long)Math.Round(median * Math.Exp(sigma * normal)), 1, max);
    }

    private static double[] Cumulative(int tenants)
    {
        var weights = Enumerable.Range(1, tenants).Select(rank => 1.0 / rank).ToArray();
        var total = weights.Sum();
        var cumulative = new double[tenants];
        var running = 0.0;
        for (var i = 0; i < tenants; i++) cumulative[i] = running += weights[i] / total;
        cumulative[^1] = 1.0;
        return cumulative;
    }
}
