namespace Metering.Budgets.Diagnostics;

/// <summary>
/// <c>GET /v1/diagnostics/memory</c> (admin): the silo's managed heap after a full, compacting collection and how many
/// tenant grains it holds, for capacity planning (memory per active tenant). The collection pauses the silo briefly.
/// </summary>
public static class GetMemoryDiagnostics
{
    public static void MapGetMemoryDiagnostics(this IEndpointRouteBuilder app) =>
        app.MapGet("/v1/diagnostics/memory", () =>
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            return Results.Ok(new MemoryView(GC.GetTotalMemory(forceFullCollection: true), TenantBudgetGrain.ActiveCount));
        }).RequireAuthorization(Policies.Admin)
            .WithName("GetMemoryDiagnostics").WithTags("Diagnostics").WithSummary("The silo's managed heap after a full collection, and its active tenant grains")
            .Produces<MemoryView>();

    public sealed record MemoryView(long ManagedBytes, int ActiveTenantGrains);
}
