using Npgsql;

namespace Metering.Billing;

/// <summary>
/// Billing's PostgreSQL, for the statements that go around Marten (the tenant-month writer's locks and transaction,
/// receipts, dead letters, spend quantities).
/// </summary>
public sealed record BillingDatabase(NpgsqlDataSource DataSource);
