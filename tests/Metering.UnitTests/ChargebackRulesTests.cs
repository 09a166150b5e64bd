using Metering.Billing.Chargeback.Capacity;
using Metering.Billing.Chargeback.Ledger;
using Metering.Billing.Chargeback.Teams;
using Metering.Contracts.Billing;
using Metering.ServiceDefaults;

namespace Metering.UnitTests;

public sealed class ChargebackRulesTests
{
    private static InvoiceLineView Line(decimal quantity, string? price, string? amount, string model = "llama") =>
        new(Meters.OutputTokens, model, null, quantity, price, amount);

    [Fact]
    public void True_ups_post_the_difference_to_the_invoice_so_a_month_sums_to_its_invoice_across_teams()
    {
        var balance = new LedgerBalance { Id = "usage:acme:2026-10", Tenant = "acme", Month = "2026-10" };
        // 1,004,166 tokens at 2.40 = 2.4099984 → 2.41; then 1,004,166 more (2.4099984 × 2 = 4.8199968 → 4.82).
        var first = balance.TrueUp([Line(1_004_166, "2.40", "2.41")], "nlp");
        var second = balance.TrueUp([Line(2_008_332, "2.40", "4.82")], "vision");

        Assert.Equal([new PostingLine("expense:nlp", 2.41m, 1_004_166, Meters.OutputTokens, "llama", null, "2.40"), new PostingLine(LedgerAccounts.CostPool, -2.41m)], first);
        Assert.Equal([new PostingLine("expense:vision", 2.41m, 1_004_166, Meters.OutputTokens, "llama", null, "2.40"), new PostingLine(LedgerAccounts.CostPool, -2.41m)], second);
        Assert.Equal(4.82m, balance.Lines.Sum(l => l.Amount));
        Assert.Empty(balance.TrueUp([Line(2_008_332, "2.40", "4.82")], "vision"));
    }

    [Fact]
    public void A_rate_card_that_prices_unpriced_usage_moves_it_to_a_priced_line()
    {
        var balance = new LedgerBalance { Id = "usage:acme:2026-10", Tenant = "acme", Month = "2026-10" };
        balance.TrueUp([Line(500_000, null, null)], "nlp");
        var repriced = balance.TrueUp([Line(500_000, "1.00", "0.50")], "nlp");

        Assert.Equal(3, repriced.Count);
        Assert.Contains(new PostingLine("expense:nlp", 0, -500_000, Meters.OutputTokens, "llama"), repriced);
        Assert.Contains(new PostingLine("expense:nlp", 0.50m, 500_000, Meters.OutputTokens, "llama", null, "1.00"), repriced);
        Assert.Equal(0, repriced.Sum(l => l.Amount));
    }

    [Fact]
    public void Idle_capacity_is_split_by_metered_use_in_cents_that_add_up_to_the_idle_cost()
    {
        // 10 h at 100.00; 3 h metered → 7 h idle = 70.00, split 1 : 1 : 1 → 23.34, 23.33, 23.33.
        var allocation = IdleAllocation.Allocate(new CapacityItem("h100", 10, 100m),
            new Dictionary<string, decimal> { ["b-team"] = 3600, ["a-team"] = 3600, ["c-team"] = 3600 });

        Assert.Equal(("70.00", 3m, 7m), (allocation.IdleCost, allocation.MeteredHours, allocation.IdleHours));
        Assert.Equal([new TeamShareView("a-team", 1, "23.34"), new TeamShareView("b-team", 1, "23.33"), new TeamShareView("c-team", 1, "23.33")], allocation.Shares);
    }

    [Fact]
    public void Idle_capacity_nobody_used_goes_to_unallocated_and_over_used_capacity_has_no_idle_cost()
    {
        var unused = IdleAllocation.Allocate(new CapacityItem("h100", 2, 9.99m), new Dictionary<string, decimal>());
        Assert.Equal([new TeamShareView(TeamDirectory.Unallocated, 0, "9.99")], unused.Shares);

        var overUsed = IdleAllocation.Allocate(new CapacityItem("h100", 1, 5m), new Dictionary<string, decimal> { ["a"] = 7200 });
        Assert.Equal(("0.00", 0m), (overUsed.IdleCost, overUsed.IdleHours));
        Assert.Empty(overUsed.Shares);
    }

    [Fact]
    public void The_team_directory_finds_cycles_and_covers_teams_below_a_viewer()
    {
        var at = DateTimeOffset.UnixEpoch;
        var directory = TeamDirectory.Empty
            .Apply(new TeamDefined("org", "Org", "CC-1", null, at, "admin"))
            .Apply(new TeamDefined("research", "Research", "CC-2", "org", at, "admin"))
            .Apply(new TeamDefined("nlp", "NLP", "CC-3", "research", at, "admin"))
            .Apply(new TenantTeamAssigned("chat", "nlp", at, "admin"))
            .Apply(new TenantTeamAssigned("chat", "research", at.AddDays(1), "admin"));

        Assert.True(directory.WouldCycle("org", "nlp"));
        Assert.True(directory.WouldCycle("nlp", "nlp"));
        Assert.False(directory.WouldCycle("nlp", "org"));
        Assert.True(directory.Covers("org", "nlp"));
        Assert.False(directory.Covers("nlp", "research"));
        Assert.Equal("research", directory.TeamOf("chat"));
        Assert.Equal(TeamDirectory.Unallocated, directory.TeamOf("nobody"));
        Assert.Equal(["nlp", "research"], directory.Tenants["chat"].Select(c => c.Team));
    }

    [Theory]
    [InlineData("nlp", "team=token")]
    [InlineData("Bad Team=token-1", "not a team a viewer can be scoped to")]
    [InlineData("unallocated=token-1", "not a team a viewer can be scoped to")]
    [InlineData("nlp=admin-secret", "used by another role or team")]
    [InlineData("nlp=t1,vision=t1", "used by another role or team")]
    [InlineData("nlp=t1,nlp=t2", "appears twice")]
    public void Viewer_tokens_that_are_malformed_or_reused_stop_the_service_without_naming_the_token(string setting, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ViewerTokens.Parse(setting, "admin-secret", "emitter-secret"));
        Assert.Contains(message, error.Message);
        Assert.DoesNotContain("secret", error.Message);
        Assert.DoesNotContain("t1", error.Message.Replace("'nlp'", "", StringComparison.Ordinal).Replace(MeteringSettings.ViewerTokensVariable, "", StringComparison.Ordinal));
    }

    [Fact]
    public void Viewer_tokens_map_each_team_to_its_token()
    {
        Assert.Equal(new Dictionary<string, string> { ["nlp"] = "t1", ["vision"] = "t2" }, ViewerTokens.Parse(" nlp = t1 , vision=t2", "a", "e"));
        Assert.Empty(ViewerTokens.Parse(null, "a", "e"));
    }
}
