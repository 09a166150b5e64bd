using Npgsql;
using NpgsqlTypes;
using Microsoft.AspNetCore.Mvc;

namespace Metering.Billing.Invoices;

/// <summary>
/// <c>GET /v1/invoices/{tenant}/{period}/usage?meter=&amp;model=&amp;gpu_type=&amp;offset=&amp;limit=</c> (admin, viewer of its team): the usage events
/// behind an invoice line, in the order they were recorded, with voids as negative entries — every line can be
/// explained down to the events it sums. Paged: at most <c>limit</c> (1–10,000, default 1,000) from <c>offset</c>.
/// </summary>
public static class GetInvoiceUsage
{
    public sealed record UsageEntry(string Id, string Meter, string? Model, string? GpuType, decimal Quantity, DateTimeOffset Timestamp, string? Service,
        string? AdjustmentFor, string? VoidReason);

    /// <summary>One page of the usage behind an invoice, from <see cref="Offset"/>.</summary>
    public sealed record UsagePage(string Tenant, string Period, int Offset, IReadOnlyList<UsageEntry> Usage);

    public static void MapGetInvoiceUsage(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/invoices/{tenant}/{period}/usage", HandleAsync).RequireAuthorization(Policies.Reader)
            .WithName("GetInvoiceUsage").WithTags("Invoices").WithSummary("The usage events behind an invoice, voids as negative entries, paged")
            .Produces<UsagePage>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesRetryLater();

    private static async Task<IResult> HandleAsync(string tenant, string period, string? meter, string? model, string? gpu_type,
        [FromQuery(Name = "offset")] string? offsetText, [FromQuery(Name = "limit")] string? limitText,
        ClaimsPrincipal user, IQuerySession session, BillingDatabase database, CancellationToken ct)
    {
        var errors = InvoiceRoute.Errors(tenant, period);
        if (meter is not null && !Meters.IsKnown(meter)) errors["meter"] = [$"must be one of {string.Join(", ", Meters.All)}"];
        var offset = WholeNumber(offsetText, 0, int.MaxValue, "offset", "must be a whole number, 0 or more", errors);
        var limit = WholeNumber(limitText, 1, 10_000, "limit", "must be a whole number from 1 to 10000", errors);
        if (errors.Count > 0) return Results.ValidationProblem(errors);
        if (!await TenantAccess.MayReadAsync(user, tenant, period, session, ct)) return BearerTokenHandler.Forbidden();

        var stream = BillingPeriod.UsageStream(tenant, period);
        if (await session.Events.FetchStreamStateAsync(stream, ct) is null)
            return InvoiceRoute.NoInvoice(tenant, period);

        var page = await ReadPageAsync(database, session.DocumentStore.Options.Events.DatabaseSchemaName, stream, meter, model, gpu_type, offset ?? 0, limit ?? 1000, ct);
        return Results.Ok(new UsagePage(tenant, period, offset ?? 0, page));
    }

    /// <summary>
    /// One page of the stream's usage, filtered, skipped and limited in PostgreSQL: a month can hold millions of events,
    /// and a page needs only its own. The model filter matches token meters and the GPU-type filter <c>gpu_seconds</c>,
    /// as <see cref="Meters.ItemOf"/> shows them.
    /// </summary>
    public static async Task<List<UsageEntry>> ReadPageAsync(BillingDatabase database, string schema, string stream, string? meter, string? model,
        string? gpuType, int offset, int limit, CancellationToken ct)
    {
        // A batch's usage is kept beside it (TenantMonths/UsageRecordings.cs), or, in an event stored before events held
        // only totals, in the event; a void's is in its event.
        await using var command = database.DataSource.CreateCommand($"""
            select u->>'Id', u->>'Meter', u->>'Model', u->>'GpuType', (u->>'Quantity')::numeric, u->>'Timestamp', u->>'Service',
                   e.data->>'AdjustmentFor', e.type = 'usage_void_recorded', e.data->>'Reason'
            from {schema}.mt_events e
            left join {schema}.{BillingStore.BatchUsage} b on b.event_id = e.id
            cross join lateral jsonb_array_elements(case when e.type = 'usage_void_recorded' then jsonb_build_array(e.data->'Usage')
                else coalesce(b.usage::jsonb, e.data->'Usage') end)
                with ordinality as entries(u, position)
            where e.stream_id = @stream and e.type in ('usage_batch_recorded', 'usage_void_recorded')
              and (@meter is null or u->>'Meter' = @meter)
              and (@model is null or (u->>'Meter' = any(@token_meters) and u->>'Model' = @model))
              and (@gpu_type is null or (u->>'Meter' <> all(@token_meters) and u->>'GpuType' = @gpu_type))
            order by e.version, entries.position
            offset @offset limit @limit
            """);
        command.Parameters.AddWithValue("stream", stream);
        command.Parameters.Add(new NpgsqlParameter("meter", NpgsqlDbType.Text) { Value = (object?)meter ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("model", NpgsqlDbType.Text) { Value = (object?)model ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("gpu_type", NpgsqlDbType.Text) { Value = (object?)gpuType ?? DBNull.Value });
        command.Parameters.AddWithValue("token_meters", Meters.All.Where(Meters.IsTokenMeter).ToArray());
        command.Parameters.AddWithValue("offset", offset);
        command.Parameters.AddWithValue("limit", limit);
        var page = new List<UsageEntry>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            string? Text(int column) => reader.IsDBNull(column) ? null : reader.GetString(column);
            var usage = new RecordedUsage(reader.GetString(0), reader.GetString(1), reader.GetDecimal(4),
                DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture), Text(2), Text(3), Text(6));
            var isVoid = reader.GetBoolean(8);
            page.Add(Entry(usage, isVoid ? -usage.Quantity : usage.Quantity, Text(7), isVoid ? Text(9) : null));
        }
        return page;
    }

    /// <summary>Query values are read as text: one that is no whole number ("abc", "1.5") is a field error, not a binding failure.</summary>
    private static int? WholeNumber(string? text, int min, int max, string field, string rule, Dictionary<string, string[]> errors)
    {
        if (text is null) return null;
        // Digits only: int.TryParse ignores trailing U+0000.
        if (text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        errors[field] = [rule];
        return null;
    }

    private static UsageEntry Entry(RecordedUsage u, decimal quantity, string? adjustmentFor, string? voidReason)
    {
        var (model, gpuType) = Meters.ItemOf(u.Meter, u.Model, u.GpuType);
        return new(u.Id, u.Meter, model, gpuType, quantity, u.Timestamp, u.Service, adjustmentFor, voidReason);
    }
}
