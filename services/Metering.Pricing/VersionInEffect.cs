namespace Metering.Pricing;

/// <summary>A rate-card version as far as choosing one goes: its number and the UTC day it takes effect.</summary>
public interface IRateCardVersion
{
    int Version { get; }
    DateOnly EffectiveFrom { get; }
}

/// <summary>
/// Which rate-card version prices usage: on a UTC day, the version with the latest <c>effective_from</c> not after it;
/// of versions taking effect the same day, the highest number (the later one added).
/// </summary>
public static class VersionInEffect
{
    /// <summary>The version in effect on <paramref name="day"/>, if any; only of versions numbered up to <paramref name="through"/> when given.</summary>
    public static T? On<T>(IReadOnlyList<T> versions, DateOnly day, int? through = null) where T : class, IRateCardVersion
    {
        // A scan, not a sort: budgets price every usage event with it.
        T? inEffect = null;
        for (var i = 0; i < versions.Count; i++)
        {
            var version = versions[i];
            if (version.EffectiveFrom > day || (through is { } last && version.Version > last)) continue;
            if (inEffect is null || version.EffectiveFrom > inEffect.EffectiveFrom
                || (version.EffectiveFrom == inEffect.EffectiveFrom && version.Version >= inEffect.Version))
                inEffect = version;
        }
        return inEffect;
    }

    /// <summary>The version in effect at a moment: on its UTC day, whatever the moment's offset.</summary>
    public static T? At<T>(IReadOnlyList<T> versions, DateTimeOffset moment) where T : class, IRateCardVersion => On(versions, DayOf(moment));

    /// <summary>The UTC day of a moment, the day a rate-card version is chosen for.</summary>
    public static DateOnly DayOf(DateTimeOffset moment) => DateOnly.FromDateTime(moment.UtcDateTime);
}
