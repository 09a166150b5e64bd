using System.Text.RegularExpressions;

namespace Metering.Contracts.Usage;

/// <summary>
/// Every rule a usage event v1 must satisfy (PRODUCT §4). Ingest, the emitter library and the consumers all
/// judge events by this one class.
/// </summary>
public static partial class UsageEventRules
{
    public const int MaxIdLength = 128;
    public const decimal MaxQuantity = 1_000_000_000_000m;
    public const int MaxGpuSecondDecimals = 6;
    public const int MaxAttributes = 32;
    public const int MaxAttributeKeyLength = 64;
    public const int MaxAttributeValueLength = 256;
    public const int MaxNameLength = 128;
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(62);
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromMinutes(5);

    // Every pattern ends in \z, not $: in .NET '$' also matches before a final '\n', and "acme\n" would be a tenant of its own.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{0,62}\z")]
    public static partial Regex TenantPattern();

    /// <summary>What every endpoint says about a tenant id that breaks <see cref="TenantPattern"/>.</summary>
    public const string TenantRule = "must match ^[a-z0-9][a-z0-9-]{0,62}$";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}\z")]
    private static partial Regex ModelPattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,31}\z")]
    private static partial Regex GpuTypePattern();

    public static bool IsValidTenant(string? tenant) => tenant is not null && TenantPattern().IsMatch(tenant);

    public const string ModelRule = "must be 1 to 128 characters of letters, digits and ._:/@+-";

    public static bool IsValidModel(string? model) => model is not null && ModelPattern().IsMatch(model);

    public const string GpuTypeRule = "must match ^[a-z0-9][a-z0-9_-]{0,31}$";

    public static bool IsValidGpuType(string? gpuType) => gpuType is not null && GpuTypePattern().IsMatch(gpuType);

    /// <summary>Appends every broken rule of <paramref name="e"/> to <paramref name="errors"/>; fields are named <c>{prefix}.{field}</c>.</summary>
    public static void Validate(UsageEvent e, DateTimeOffset now, string prefix, ICollection<FieldError> errors)
    {
        string F(string field) => prefix.Length == 0 ? field : $"{prefix}.{field}";

        if (string.IsNullOrEmpty(e.Id) || e.Id.Length > MaxIdLength)
            errors.Add(new(F("id"), $"must be 1 to {MaxIdLength} characters"));
        else if (!TextRules.IsIdentifier(e.Id))
            errors.Add(new(F("id"), TextRules.IdentifierRule));

        if (!IsValidTenant(e.Tenant))
            errors.Add(new(F("tenant"), TenantRule));

        var knownMeter = e.Meter is not null && Meters.IsKnown(e.Meter);
        if (!knownMeter)
            errors.Add(new(F("meter"), $"must be one of {string.Join(", ", Meters.All)}"));

        if (e.Quantity < 0 || e.Quantity > MaxQuantity)
            errors.Add(new(F("quantity"), "must be between 0 and 1e12"));
        else if (knownMeter && Meters.IsTokenMeter(e.Meter!) && decimal.Truncate(e.Quantity) != e.Quantity)
            errors.Add(new(F("quantity"), "must be a whole number for token meters"));
        else if (knownMeter && decimal.Round(e.Quantity, MaxGpuSecondDecimals) != e.Quantity)
            errors.Add(new(F("quantity"), $"must have at most {MaxGpuSecondDecimals} decimals"));

        var utc = e.Timestamp.ToUniversalTime();
        if (utc < now - MaxAge)
            errors.Add(new(F("timestamp"), "must not be more than 62 days in the past"));
        else if (utc > now + MaxFutureSkew)
            errors.Add(new(F("timestamp"), "must not be more than 5 minutes in the future"));

        ValidateItem(e.Meter, e.Model, e.GpuType, prefix, errors);

        if (e.Service is not null && (e.Service.Length is 0 or > MaxNameLength || !TextRules.IsIdentifier(e.Service)))
            errors.Add(new(F("service"), $"must be 1 to {MaxNameLength} printable characters"));

        if (e.Attributes is { } attributes)
        {
            if (attributes.Count > MaxAttributes)
                errors.Add(new(F("attributes"), $"must have at most {MaxAttributes} entries"));
            foreach (var (key, value) in attributes)
            {
                // A key that is not printable text is not repeated in the field name: logs and dead letters show field names.
                if (!TextRules.IsIdentifier(key))
                {
                    errors.Add(new(F("attributes"), $"keys {TextRules.IdentifierRule}"));
                    continue;
                }
                if (key.Length is 0 or > MaxAttributeKeyLength)
                    errors.Add(new(F($"attributes.{key}"), $"key must be 1 to {MaxAttributeKeyLength} characters"));
                if (value is null || value.Length > MaxAttributeValueLength)
                    errors.Add(new(F($"attributes.{key}"), $"value must be a string of at most {MaxAttributeValueLength} characters"));
                else if (!TextRules.IsFreeText(value))
                    errors.Add(new(F($"attributes.{key}"), $"value {TextRules.FreeTextRule}"));
            }
        }
    }

    /// <summary>
    /// What a meter's quantity is of: a token meter needs a <paramref name="model"/>, <c>gpu_seconds</c> a
    /// <paramref name="gpuType"/>, and either, when given, follows its pattern. Usage and authorize requests alike, so
    /// nothing is priced under a name the rate card cannot hold and no <c>cost_usd</c> limit is passed by leaving it out.
    /// Nothing is said about an unknown meter: its own rule does.
    /// </summary>
    public static void ValidateItem(string? meter, string? model, string? gpuType, string prefix, ICollection<FieldError> errors)
    {
        string F(string field) => prefix.Length == 0 ? field : $"{prefix}.{field}";
        var knownMeter = meter is not null && Meters.IsKnown(meter);
        if (knownMeter && Meters.IsTokenMeter(meter!) && model is null)
            errors.Add(new(F("model"), $"is required for {meter}"));
        if (model is not null && !IsValidModel(model))
            errors.Add(new(F("model"), ModelRule));

        if (meter == Meters.GpuSeconds && gpuType is null)
            errors.Add(new(F("gpu_type"), "is required for gpu_seconds"));
        if (gpuType is not null && !IsValidGpuType(gpuType))
            errors.Add(new(F("gpu_type"), GpuTypeRule));
    }

    public static IReadOnlyList<FieldError> Validate(UsageEvent e, DateTimeOffset now)
    {
        var errors = new List<FieldError>();
        Validate(e, now, "", errors);
        return errors;
    }
}
