using System.Text.Json.Serialization;

namespace Metering.Contracts.Billing;

/// <summary>Response of <c>GET /v1/invoices/{tenant}/{period}</c>. Money is a decimal string in JSON.</summary>
public sealed record InvoiceView(
    string Tenant, string Period, string Status, string Currency, IReadOnlyList<InvoiceLineView> Lines, string Total);

public sealed record InvoiceLineView(
    string Meter,
    string? Model,
    string? GpuType,
    decimal Quantity,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? UnitPrice,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Amount,
    string? AdjustmentFor = null);

public static class InvoiceStatuses
{
    public const string Draft = "draft";
    public const string Finalized = "finalized";
}
