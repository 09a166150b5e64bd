using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Metering.UsageTopic;

public static class UsageTopicRegistration
{
    /// <summary>Runs <typeparamref name="TConsumer"/> as a hosted service; the service is ready only while it consumes.</summary>
    public static IServiceCollection AddUsageTopicConsumer<TConsumer>(this IServiceCollection services) where TConsumer : UsageTopicConsumer
    {
        services.TryAddSingleton<DeadLetterProducer>();
        services.AddSingleton<TConsumer>();
        services.AddHostedService(sp => sp.GetRequiredService<TConsumer>());
        services.AddHealthChecks().AddCheck<ConsumerHealth<TConsumer>>(typeof(TConsumer).Name, tags: [MeteringDefaults.ReadyTag]);
        return services;
    }

    private sealed class ConsumerHealth<TConsumer>(TConsumer consumer) : IHealthCheck where TConsumer : UsageTopicConsumer
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(consumer.IsRunning ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("the usage consumer is not running"));
    }
}
