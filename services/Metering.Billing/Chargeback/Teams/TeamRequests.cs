using System.Text.Json;
using System.Text.RegularExpressions;

namespace Metering.Billing.Chargeback.Teams;

/// <summary>The team endpoints' request bodies as read, field by field (their 400 is <see cref="BillingEndpoints.Invalid"/>).</summary>
public static partial class TeamRequests
{
    public const int MaxNameLength = 200;
    public const long MaxBodyBytes = 16 * 1024;

    public static TeamFields? ReadTeam(JsonElement root, List<FieldError> errors)
    {
        if (!IsObject(root, errors)) return null;
        var body = new TeamFields(JsonFields.Text(root, "name", "name", errors), JsonFields.Text(root, "cost_center", "cost_center", errors),
            JsonFields.Text(root, "parent", "parent", errors));
        if (body.Name is not { Length: >= 1 and <= MaxNameLength } || string.IsNullOrWhiteSpace(body.Name) || !TextRules.IsIdentifier(body.Name))
            errors.Add(new("name", $"must be 1 to {MaxNameLength} printable characters"));
        if (body.CostCenter is null || !CostCenterPattern().IsMatch(body.CostCenter))
            errors.Add(new("cost_center", "must match ^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"));
        if (body.Parent is not null && !UsageEventRules.IsValidTenant(body.Parent)) errors.Add(new("parent", UsageEventRules.TenantRule));
        return body;
    }

    /// <summary>A <see cref="TenantTeamRequest"/> body's team as read, or null when the body is not an object.</summary>
    public static string? ReadTenantTeam(JsonElement root, List<FieldError> errors, out bool isObject)
    {
        isObject = IsObject(root, errors);
        return isObject ? JsonFields.Text(root, "team", "team", errors) : null;
    }

    private static bool IsObject(JsonElement root, List<FieldError> errors)
    {
        if (root.ValueKind == JsonValueKind.Object) return true;
        errors.Add(new("$", "must be a JSON object"));
        return false;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}\z")]
    private static partial Regex CostCenterPattern();
}
