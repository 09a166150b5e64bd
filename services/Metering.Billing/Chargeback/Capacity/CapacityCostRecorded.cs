namespace Metering.Billing.Chargeback.Capacity;

public sealed record CapacityItem(string GpuType, decimal GpuHours, decimal Cost);

/// <summary>What the platform paid for a month's GPU capacity; the latest record of a month replaces earlier ones.</summary>
public sealed record CapacityCostRecorded(string Period, string Mode, IReadOnlyList<CapacityItem> Items, DateTimeOffset At, string By)
{
    public static string StreamKey(string period) => $"capacity:{period}";
}
