using Metering.ServiceDefaults;

namespace Metering.IntegrationTests;

/// <summary>
/// Reservations are bounded: at most <c>METERING_MAX_OPEN_RESERVATIONS</c> open per tenant (3 here), and expired ones
/// leave the store whether or not their tenant is called again. A silo of its own with a fake clock.
/// </summary>
public sealed class BudgetReservationTests() : BudgetSiloTests("budget_reservations", new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero),
    new Dictionary<string, string?> { [MeteringSettings.MaxOpenReservationsVariable] = Cap.ToString() })
{
    private const int Cap = 3;

    private async Task<long> StoredReservations(string tenant)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select count(*) from {BudgetStore.Schema}.reservations where tenant = @tenant", connection);
        command.Parameters.AddWithValue("tenant", tenant);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static AuthorizeRequest Reserve(decimal quantity) => new(Meters.InputTokens, quantity, "m", Reserve: true);

    [Fact]
    public async Task Past_the_cap_another_reservation_is_refused_with_a_reason_until_one_expires()
    {
        var grain = Silo.Grains.GetGrain<ITenantBudgetGrain>(TestInfrastructure.UniqueTenant("reserve-cap"));
        for (var i = 0; i < Cap; i++) Assert.True((await grain.Authorize(Reserve(1))).Allowed);

        var refused = await grain.Authorize(Reserve(1));
        Assert.False(refused.Allowed);
        Assert.Null(refused.ReservationId);
        Assert.Contains($"{Cap} reservations are open", refused.Reason);
        Assert.InRange(refused.RetryAfterSeconds!.Value, 1, (long)TenantBudgetGrain.ReservationLifetime.TotalSeconds);
        // Only holding is capped: asking without holding is still answered by the limits.
        Assert.True((await grain.Authorize(Reserve(1) with { Reserve = false })).Allowed);

        Clock.Advance(TenantBudgetGrain.ReservationLifetime);
        Assert.True((await grain.Authorize(Reserve(1))).Allowed);
    }

    [Fact]
    public async Task Expired_reservations_are_deleted_from_the_store_without_their_tenant_being_called()
    {
        var tenant = TestInfrastructure.UniqueTenant("reserve-expiry");
        var grain = Silo.Grains.GetGrain<ITenantBudgetGrain>(tenant);
        Assert.True((await grain.Authorize(Reserve(5))).Allowed);
        Assert.True((await grain.Authorize(Reserve(7))).Allowed);
        Assert.Equal(2, await StoredReservations(tenant));

        Clock.Advance(TenantBudgetGrain.ReservationLifetime + ReservationPruning.Period);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await StoredReservations(tenant) > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, await StoredReservations(tenant));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("many")]
    public async Task A_cap_that_is_not_a_whole_number_above_zero_stops_the_silo_from_starting(string cap)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => BudgetSilo.StartAsync(Database, Clock,
            new Dictionary<string, string?> { [MeteringSettings.MaxOpenReservationsVariable] = cap }));
        Assert.Contains(MeteringSettings.MaxOpenReservationsVariable, failure.ToString());
    }
}
