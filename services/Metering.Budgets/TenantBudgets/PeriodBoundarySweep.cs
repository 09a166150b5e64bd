namespace Metering.Budgets.TenantBudgets;

/// <summary>
/// A tenant that is not <c>ok</c> is lifted when its period ends by its grain's timer, but only while a silo holds the
/// grain: after a restart, or with the grain not active, nothing would, and the status topic (and every emitter's
/// <c>IsThrottled</c>) would say <c>throttled</c> until someone called that tenant. So at start-up and right after
/// each UTC midnight (a month also ends at one) this wakes the grain of every tenant whose stored status is not
/// <c>ok</c>: it re-evaluates its limits at that moment and broadcasts the change, or keeps its timer until the next
/// boundary. Every silo sweeps; waking a grain twice changes nothing.
/// </summary>
public sealed class PeriodBoundarySweep(BudgetStore store, TenantBudgetGrains grains, TimeProvider clock, IHostApplicationLifetime lifetime,
    ILogger<PeriodBoundarySweep> logger) : BackgroundService
{
    /// <summary>How long after midnight the sweep runs (the grains' own timers fire 50 ms after it).</summary>
    public static readonly TimeSpan AfterBoundary = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(30);
    private const int Parallelism = 16;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Grains can be called once the silo has started, which is when the whole host has.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await started.Task.WaitAsync(stoppingToken);

        while (!stoppingToken.IsCancellationRequested)
        {
            while (!await SweepAsync(stoppingToken)) await Task.Delay(RetryAfterFailure, clock, stoppingToken);
            var now = clock.GetUtcNow();
            var nextBoundary = TenantBudget.PeriodEnd(Periods.Day, TenantBudget.PeriodStart(Periods.Day, now));
            await Task.Delay(nextBoundary - now + AfterBoundary, clock, stoppingToken);
        }
    }

    /// <summary>Wakes every tenant that is not ok; false when the statuses could not be read or a grain did not answer.</summary>
    private async Task<bool> SweepAsync(CancellationToken ct)
    {
        IReadOnlyList<string> tenants;
        try
        {
            tenants = await store.TenantsNotOkAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Reading the tenants that are not ok failed; trying again in {Delay}", RetryAfterFailure);
            return false;
        }
        var failed = 0;
        await Parallel.ForEachAsync(tenants, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (tenant, _) =>
        {
            try
            {
                await grains.Of(tenant).Refresh();
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref failed);
                logger.LogWarning(ex, "Waking tenant {Tenant} at the period boundary failed", tenant);
            }
        });
        if (tenants.Count > 0) logger.LogInformation("Re-evaluated {Count} tenants that were not ok, {Failed} failed", tenants.Count, failed);
        return failed == 0;
    }
}
