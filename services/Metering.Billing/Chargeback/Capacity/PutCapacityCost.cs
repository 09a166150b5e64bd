using System.Text.Json;

namespace Metering.Billing.Chargeback.Capacity;

/// <summary>
/// <c>PUT /v1/capacity-cost/{period}</c> (admin): records the month's GPU capacity cost; the ledger allocates its idle
/// part to teams (see <see cref="Ledger.IdleAllocation"/>). Best recorded once the month is over and its usage is in.
/// </summary>
public static class PutCapacityCost
{
    public const int MaxItems = 100;
    public const long MaxBodyBytes = 64 * 1024;

    public static void MapPutCapacityCost(this IEndpointRouteBuilder app) =>
        app.MapAdminPut<CapacityCostRequest, CapacityCostRecordedView>("/v1/capacity-cost/{period}", PutAsync, MaxBodyBytes,
            "PutCapacityCost", "Chargeback", "Record what the month's GPU capacity cost; its idle part is allocated to teams");

    private static async Task<IResult> PutAsync(string period, HttpRequest request, ClaimsPrincipal user, BillingWriter writer, TimeProvider clock,
        CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var now = clock.GetUtcNow();
        if (!BillingPeriod.TryParse(period, out _)) errors.Add(new("period", BillingPeriod.Rule));
        else if (string.CompareOrdinal(period, BillingPeriod.Of(now)) > 0) errors.Add(new("period", "must not be a future month"));
        const string invalid = "The capacity cost is invalid; nothing was recorded.";
        using var json = await JsonBody.ReadAsync(request, ct);
        if (json.Error is { } unread) return BillingEndpoints.Invalid([.. errors, unread], invalid, json.StatusCode);
        var body = Read(json.Root, errors);
        if (errors.Count > 0 || body is null) return BillingEndpoints.Invalid(errors, invalid);

        var recorded = new CapacityCostRecorded(period, body.Value.Mode, body.Value.Items, now, user.Identity!.Name!);
        // Under the month's lock two records of one month are stored one after the other, the latest last.
        await using var write = await writer.BeginAsync([BillingLock.CapacityCost(period)], ct);
        write.Append(CapacityCostRecorded.StreamKey(period), recorded);
        await write.CommitAsync(ct);
        return Results.Ok(new CapacityCostRecordedView(period, recorded.Mode,
            recorded.Items.Select(i => new CapacityCostItemView(i.GpuType, i.GpuHours, i.Cost.ToString(CultureInfo.InvariantCulture))).ToList(), now));
    }

    private static (string Mode, List<CapacityItem> Items)? Read(JsonElement root, List<FieldError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("$", "must be a JSON object"));
            return null;
        }
        var mode = JsonFields.Text(root, "mode", "mode", errors);
        if (mode is not (CapacityModes.Showback or CapacityModes.Chargeback)) errors.Add(new("mode", "must be showback or chargeback"));

        var items = new List<CapacityItem>();
        if (!root.TryGetProperty("items", out var array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() is 0 or > MaxItems)
        {
            errors.Add(new("items", $"must be an array of 1 to {MaxItems} items"));
            return null;
        }
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var prefix = $"items[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new(prefix, "must be an object"));
                continue;
            }
            var gpuType = JsonFields.Text(item, "gpu_type", $"{prefix}.gpu_type", errors);
            if (!UsageEventRules.IsValidGpuType(gpuType)) errors.Add(new($"{prefix}.gpu_type", UsageEventRules.GpuTypeRule));
            else if (items.Any(i => i.GpuType == gpuType)) errors.Add(new($"{prefix}.gpu_type", $"duplicates the item of {gpuType}"));
            var hours = Decimal(item, "gpu_hours", allowNumber: true);
            if (hours is not (> 0 and <= 1_000_000_000)) errors.Add(new($"{prefix}.gpu_hours", "must be a number greater than 0 and at most 1e9"));
            var cost = Decimal(item, "cost", allowNumber: false);
            if (cost is not (>= 0 and <= 1_000_000_000_000) || cost.Value.Scale > 6)
                errors.Add(new($"{prefix}.cost", "must be a decimal string from \"0\" to \"1000000000000\" with at most 6 decimals"));
            if (errors.Count == 0) items.Add(new CapacityItem(gpuType!, hours!.Value, cost!.Value));
        }
        return errors.Count > 0 ? null : (mode!, items);
    }

    /// <summary>Money is a decimal string (PRODUCT §4); hours may also be a plain JSON number.</summary>
    private static decimal? Decimal(JsonElement item, string name, bool allowNumber)
    {
        if (!item.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && allowNumber) return value.TryGetDecimal(out var number) ? number : null;
        return JsonFields.TryGetDecimalText(value, out var parsed) ? parsed : null;
    }
}
