namespace Metering.Budgets.Lists;

/// <summary>
/// <c>?q=</c> of the tenant list and of its counts: the start of a tenant id. Matched as a range in byte order of the
/// id, which makes it an index condition under any plan, and stated exactly by a LIKE pattern with its wildcards escaped.
/// </summary>
public static class TenantPrefix
{
    public const string Parameter = "q";
    internal const string Rule = "must be the start of a tenant id (^[a-z0-9][a-z0-9-]{0,62}$)";

    /// <summary>The prefix asked for; null when absent or empty. One that no tenant id can start with is an error naming <c>q</c>.</summary>
    public static string? Read(IQueryCollection query, ICollection<FieldError> errors)
    {
        var prefix = ListPaging.Single(query, Parameter, errors);
        if (prefix is { Length: > 0 } && !UsageEventRules.IsValidTenant(prefix)) errors.Add(new(Parameter, Rule));
        return prefix is "" ? null : prefix;
    }

    /// <summary>The condition on <paramref name="column"/>, over the parameters <see cref="AddParameters"/> sets.</summary>
    public static string Condition(string column) =>
        $"""{column} collate "C" >= @prefix and {column} collate "C" < @prefix_end and {column} like @pattern""";

    public static void AddParameters(NpgsqlCommand command, string prefix)
    {
        command.Parameters.AddWithValue("prefix", prefix);
        // Every character of an id sorts below '{' in byte order.
        command.Parameters.AddWithValue("prefix_end", prefix + "{");
        command.Parameters.AddWithValue("pattern", EscapeLike(prefix) + "%");
    }

    private static string EscapeLike(string text) => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
}
