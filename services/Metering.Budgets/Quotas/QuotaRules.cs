using System.Globalization;
using System.Text.Json;

namespace Metering.Budgets.Quotas;

/// <summary>Reads <c>{"limits":[...]}</c> field by field: every broken rule is reported as <c>limits[i].field</c>.</summary>
public static class QuotaRules
{
    public const int DefaultSoftPct = 80;
    public const decimal MaxLimit = 1_000_000_000_000_000m;

    public static IReadOnlyList<QuotaLimit>? Read(JsonElement root, ICollection<FieldError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("limits", out var array) || array.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new("limits", "is required and must be an array of limits"));
            return null;
        }
        var before = errors.Count;
        var limits = new List<QuotaLimit>();
        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            if (ReadLimit(element, $"limits[{index}]", errors) is { } limit)
            {
                if (limits.Any(l => l.Meter == limit.Meter && l.Period == limit.Period))
                    errors.Add(new($"limits[{index}]", $"duplicates the {limit.Meter} {limit.Period} limit"));
                else limits.Add(limit);
            }
            index++;
        }
        return errors.Count > before ? null : limits;
    }

    private static QuotaLimit? ReadLimit(JsonElement element, string prefix, ICollection<FieldError> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new(prefix, "must be an object"));
            return null;
        }
        var before = errors.Count;
        var meter = JsonFields.Text(element, "meter", $"{prefix}.meter", errors);
        if (meter is null || !(Meters.IsKnown(meter) || meter == CostMeter.CostUsd))
            errors.Add(new($"{prefix}.meter", $"must be one of {string.Join(", ", Meters.All)}, {CostMeter.CostUsd}"));

        var period = JsonFields.Text(element, "period", $"{prefix}.period", errors);
        if (period is not (Periods.Day or Periods.Month))
            errors.Add(new($"{prefix}.period", "must be day or month"));

        decimal limit = 0;
        if (!element.TryGetProperty("limit", out var l) || !TryDecimal(l, out limit) || limit <= 0 || limit > MaxLimit)
            errors.Add(new($"{prefix}.limit", "must be a number (or decimal string) greater than 0 and at most 1e18"));

        var softPct = DefaultSoftPct;
        if (element.TryGetProperty("soft_pct", out var s) && s.ValueKind != JsonValueKind.Null &&
            (s.ValueKind != JsonValueKind.Number || !s.TryGetInt32(out softPct) || softPct is < 1 or > 100))
            errors.Add(new($"{prefix}.soft_pct", "must be a whole number from 1 to 100"));

        var enforcement = JsonFields.Text(element, "enforcement", $"{prefix}.enforcement", errors);
        if (enforcement is not (Enforcements.Throttle or Enforcements.Alert))
            errors.Add(new($"{prefix}.enforcement", "must be throttle or alert"));

        return errors.Count > before ? null : new QuotaLimit(meter!, period!, limit, softPct, enforcement!);
    }

    private static bool TryDecimal(JsonElement value, out decimal result)
    {
        result = 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetDecimal(out result),
            JsonValueKind.String => JsonFields.TryGetDecimalText(value, out result),
            _ => false,
        };
    }
}
