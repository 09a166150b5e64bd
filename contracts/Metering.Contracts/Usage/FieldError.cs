namespace Metering.Contracts.Usage;

/// <summary>One broken rule: the JSON path of the offending field (e.g. <c>events[2].quantity</c>) and why.</summary>
public sealed record FieldError(string Field, string Message)
{
    /// <summary>Every error on one line, as logs, dead-letter reasons and exception messages show them.</summary>
    public static string Describe(IEnumerable<FieldError> errors) => string.Join("; ", errors.Select(e => $"{e.Field} {e.Message}"));

    /// <summary>Every error's messages by field, as a problem+json validation response lists them.</summary>
    public static Dictionary<string, string[]> ByField(IEnumerable<FieldError> errors) =>
        errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
}
