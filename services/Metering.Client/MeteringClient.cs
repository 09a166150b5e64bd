using Microsoft.Extensions.DependencyInjection;

namespace Metering.Client;

/// <summary>
/// The three clients for a program without a service container of its own (a tool, a benchmark): the same registration
/// as <see cref="MeteringClientRegistration.AddMeteringClient"/>, in a container it owns. One per token; keep it for the
/// program's life (its connections are pooled), dispose it at the end.
/// </summary>
public sealed class MeteringClient : IDisposable
{
    private readonly ServiceProvider _services;

    private MeteringClient(ServiceProvider services) => _services = services;

    public static MeteringClient Create(Action<MeteringClientOptions> configure) =>
        new(new ServiceCollection().AddMeteringClient(configure).BuildServiceProvider());

    public IngestClient Ingest => field ??= _services.GetRequiredService<IngestClient>();
    public BudgetsClient Budgets => field ??= _services.GetRequiredService<BudgetsClient>();
    public BillingClient Billing => field ??= _services.GetRequiredService<BillingClient>();

    public void Dispose() => _services.Dispose();
}
