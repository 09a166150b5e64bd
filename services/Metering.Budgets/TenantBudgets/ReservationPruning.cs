namespace Metering.Budgets.TenantBudgets;

/// <summary>How many reservations one tenant may hold at once (<see cref="MeteringSettings.MaxOpenReservationsVariable"/>).</summary>
public sealed class ReservationOptions
{
    public int MaxOpen { get; set; } = MeteringSettings.DefaultMaxOpenReservations;
}

/// <summary>
/// Deletes expired reservations from the store every minute, for every tenant: a grain forgets its own as they expire,
/// but a tenant whose grain is not active, or that never authorizes again, would keep them in the table for ever.
/// </summary>
public sealed class ReservationPruning(BudgetStore store, TimeProvider clock, ILogger<ReservationPruning> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var deleted = await store.DeleteExpiredReservationsAsync(clock.GetUtcNow(), stoppingToken);
                if (deleted > 0) logger.LogInformation("Deleted {Count} expired reservations", deleted);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Deleting expired reservations failed; trying again in a minute");
            }
        }
    }
}
