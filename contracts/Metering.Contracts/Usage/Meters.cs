namespace Metering.Contracts.Usage;

/// <summary>The v1 meters and what each must carry.</summary>
public static class Meters
{
    public const string InputTokens = "input_tokens";
    public const string OutputTokens = "output_tokens";
    public const string CachedInputTokens = "cached_input_tokens";
    public const string GpuSeconds = "gpu_seconds";

    public static IReadOnlyList<string> All { get; } = [InputTokens, OutputTokens, CachedInputTokens, GpuSeconds];

    public static bool IsKnown(string meter) => All.Contains(meter, StringComparer.Ordinal);

    /// <summary>Token meters count whole tokens of a model; <c>gpu_seconds</c> counts GPU time of a GPU type.</summary>
    public static bool IsTokenMeter(string meter) => meter is InputTokens or OutputTokens or CachedInputTokens;

    /// <summary>What a price of the meter is for: the model of a token meter, the GPU type of <c>gpu_seconds</c>.</summary>
    public static string? PricedItem(string meter, string? model, string? gpuType) => IsTokenMeter(meter) ? model : gpuType;

    /// <summary>What counts of a usage's model and GPU type: the model of a token meter, the GPU type of <c>gpu_seconds</c>.</summary>
    public static (string? Model, string? GpuType) ItemOf(string meter, string? model, string? gpuType) =>
        IsTokenMeter(meter) ? (model, null) : (null, gpuType);
}
