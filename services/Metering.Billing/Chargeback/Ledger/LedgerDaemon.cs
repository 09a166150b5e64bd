using Npgsql;

namespace Metering.Billing.Chargeback.Ledger;

/// <summary>
/// Runs the asynchronous projections (the ledger and spend) in exactly one Billing instance: the one holding a PostgreSQL
/// session advisory lock. When that instance dies its session ends, the lock is released and another instance takes
/// over from the ledger's committed progress. (Marten's own hot/cold coordinator needs a DistributedLock build that
/// is not served here; see STACK-FACTS.)
/// </summary>
public sealed class LedgerDaemon(IDocumentStore store, BillingDatabase database, ILogger<LedgerDaemon> logger) : BackgroundService
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.DataSource.OpenConnectionAsync(stoppingToken);
                if (await TryLockAsync(connection, stoppingToken))
                {
                    logger.LogInformation("This instance posts the chargeback ledger");
                    using var daemon = await store.BuildProjectionDaemonAsync(logger: logger);
                    await daemon.StartAllAsync();
                    try
                    {
                        // Holding the lock is holding this session: check it is alive, stop posting the moment it is not.
                        while (!stoppingToken.IsCancellationRequested)
                        {
                            await Task.Delay(Retry, stoppingToken);
                            await using var ping = new NpgsqlCommand("select 1", connection);
                            await ping.ExecuteScalarAsync(stoppingToken);
                        }
                    }
                    finally
                    {
                        await daemon.StopAllAsync();
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "The ledger daemon stopped; retrying in {Seconds} s", Retry.TotalSeconds);
            }
            await Task.Delay(Retry, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_try_advisory_lock(hashtextextended('billing-ledger-daemon', 0))", connection);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }
}
