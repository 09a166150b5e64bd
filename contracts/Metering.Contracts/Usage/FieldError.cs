namespace Metering.Contracts.Usage;

/// <summary>One broken rule: the JSON path of the offending field (e.g. <c>events[2].quantity</c>) and why.</summary>
public sealed record FieldError(string Field, string Message);
