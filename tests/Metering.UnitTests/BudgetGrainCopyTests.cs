using Metering.Budgets.TenantBudgets;
using Metering.Contracts.Budgets;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Cloning;

namespace Metering.UnitTests;

/// <summary>What a grain call within the silo copies, with the silo's serializer configuration.</summary>
public sealed class BudgetGrainCopyTests
{
    private static readonly ServiceProvider Services = new ServiceCollection().AddSerializer(BudgetGrains.ConfigureSerializer).BuildServiceProvider();

    [Fact]
    public void The_authorize_request_and_answer_are_passed_as_they_are()
    {
        var copier = Services.GetRequiredService<DeepCopier>();
        var request = new AuthorizeRequest(Meters.InputTokens, 12.5m, "m", Reserve: true);
        var answer = new AuthorizeResponse(false, "input_tokens day limit reached", 3600);

        Assert.Same(request, copier.Copy(request));
        Assert.Same(answer, copier.Copy(answer));
    }

    [Fact]
    public void Other_contract_records_are_still_copied()
    {
        var copier = Services.GetRequiredService<DeepCopier>();
        var limit = new QuotaLimit(Meters.InputTokens, Periods.Day, 1000m, 80, Enforcements.Throttle);

        var copy = copier.Copy(limit);

        Assert.NotSame(limit, copy);
        Assert.Equal(limit, copy);
    }

    [Fact]
    public void Between_silos_the_authorize_request_and_answer_still_travel_whole()
    {
        var serializer = Services.GetRequiredService<Serializer>();
        var request = new AuthorizeRequest(Meters.GpuSeconds, 0.25m, "m", "h100", Reserve: true);
        var answer = new AuthorizeResponse(true, ReservationId: "0f8fad5bd9cb469fa16570867728950e");

        Assert.Equal(request, serializer.Deserialize<AuthorizeRequest>(serializer.SerializeToArray(request)));
        Assert.Equal(answer, serializer.Deserialize<AuthorizeResponse>(serializer.SerializeToArray(answer)));
    }
}
