using Microsoft.Extensions.DependencyInjection;

namespace Metering.UsageTopic;

/// <summary>A consumer's receipts of the (tenant, id) pairs it has counted.</summary>
public interface IReceiptStore
{
    /// <summary>Deletes receipts written before <paramref name="day"/>; returns how many.</summary>
    Task<long> PruneRecordedBeforeAsync(DateOnly day, CancellationToken ct);
}

/// <summary>
/// Keeps receipts for <see cref="Retention"/> after they were written, then deletes them once a day. An event can
/// come back for that long: by HTTP or the emitter only while its timestamp is within 62 days, and by Kafka
/// redelivery only while its record is in the topic, whose retention must stay below this (see README).
/// </summary>
public sealed class ReceiptPruning<TStore>(TStore store, TimeProvider clock, ILogger<ReceiptPruning<TStore>> logger) : BackgroundService
    where TStore : IReceiptStore
{
    public static readonly TimeSpan Retention = UsageEventRules.MaxAge + TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        do
        {
            try
            {
                var before = DateOnly.FromDateTime((clock.GetUtcNow() - Retention).UtcDateTime);
                var pruned = await store.PruneRecordedBeforeAsync(before, stoppingToken);
                if (pruned > 0) logger.LogInformation("Pruned {Count} usage receipts written before {Day}", pruned, before);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Pruning usage receipts failed; trying again in an hour");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

public static class ReceiptPruningRegistration
{
    public static IServiceCollection AddReceiptPruning<TStore>(this IServiceCollection services) where TStore : class, IReceiptStore =>
        services.AddHostedService<ReceiptPruning<TStore>>();
}
