using System.Text.Json.Serialization;

namespace Metering.Contracts.Billing;

/// <summary>
/// <c>GET /v1/spend</c>: cost per group and day or month. Money is a decimal string with two decimals; a point's
/// <see cref="SpendPointView.Quantity"/> is there only when every point counts one meter.
/// </summary>
public sealed record SpendView(string Currency, string From, string To, string GroupBy, string Granularity, IReadOnlyList<SpendSeriesView> Series,
    decimal? UnpricedQuantity, string Total);

/// <param name="Key">The group's value; null for usage without one (no feature, no model…), written as JSON null.</param>
public sealed record SpendSeriesView([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Key, IReadOnlyList<SpendPointView> Points);

/// <param name="Date">The UTC day (<c>YYYY-MM-DD</c>) or, by month, the period (<c>YYYY-MM</c>).</param>
public sealed record SpendPointView(string Date, decimal? Quantity, string Cost);

/// <summary><c>GET /v1/invoices?period=</c>: every invoice of the period (a viewer's: those it may read) and their sum.</summary>
public sealed record InvoiceListView(string Period, IReadOnlyList<InvoiceSummaryView> Invoices, string Total);

/// <param name="Team">The tenant's team now; absent when it has none.</param>
public sealed record InvoiceSummaryView(string Tenant, string? Team, string Status, string Total);
