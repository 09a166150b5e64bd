using Metering.Billing.Chargeback.Teams;
using Metering.Billing.RateCards;
using Metering.ServiceDefaults;

namespace Metering.UnitTests;

/// <summary>The pure rules the Billing writer's rate-card and team edges decide by, without a host or a store.</summary>
public sealed class BillingWriteRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 10, 5, 12, 0, 0, TimeSpan.Zero);
    private static readonly RateCardPrice Llama = new(Meters.OutputTokens, "llama", null, 2.40m);
    private static readonly RateCardPrice Mistral = new(Meters.OutputTokens, "mistral", null, 1.00m);

    private static RateCardVersionAdded Added(RateCardOutcome outcome) => Assert.IsType<RateCardOutcome.Added>(outcome).Event;

    [Fact]
    public void A_rate_card_version_is_numbered_after_the_versions_so_far()
    {
        var first = Added(RateCardRules.Add(null, new NewRateCardVersion("USD", new DateOnly(2026, 10, 1), [Llama]), "admin", Now));
        var history = RateCardHistory.With(null, first);
        var second = Added(RateCardRules.Add(history, new NewRateCardVersion("USD", new DateOnly(2026, 11, 1), [Llama, Mistral]), "ops", Now));

        Assert.Equal((1, "admin", Now), (first.Version, first.AddedBy, first.AddedAt));
        Assert.Equal(2, second.Version);
        Assert.Equal([Llama, Mistral], second.Prices);
    }

    [Fact]
    public void A_version_that_drops_a_price_of_the_version_in_effect_on_its_day_is_refused_unless_it_replaces()
    {
        var history = RateCardHistory.With(null, Added(RateCardRules.Add(null, new NewRateCardVersion("USD", new DateOnly(2026, 10, 1), [Llama, Mistral]), "admin", Now)));

        var refused = Assert.IsType<RateCardOutcome.WouldUnprice>(RateCardRules.Add(history, new NewRateCardVersion("USD", new DateOnly(2026, 11, 1), [Llama]), "admin", Now));
        Assert.Equal(1, refused.Previous);
        Assert.Equal([Mistral], refused.Dropped);
        Assert.Equal(2, Added(RateCardRules.Add(history, new NewRateCardVersion("USD", new DateOnly(2026, 11, 1), [Llama], Replace: true), "admin", Now)).Version);
        // Before the first version takes effect nothing is in effect, so nothing is dropped.
        Assert.Equal(2, Added(RateCardRules.Add(history, new NewRateCardVersion("USD", new DateOnly(2026, 9, 1), [Llama]), "admin", Now)).Version);
    }

    [Fact]
    public void A_team_below_a_parent_that_is_not_defined_or_below_itself_is_refused_naming_the_parent()
    {
        var directory = TeamDirectory.Empty
            .Apply(new TeamDefined("org", "Org", "CC-1", null, Now, "admin"))
            .Apply(new TeamDefined("research", "Research", "CC-2", "org", Now, "admin"));
        var errors = new List<FieldError>();

        Assert.Null(TeamRules.Define(directory, "org", new TeamFields("Org", "CC-1", "research"), "admin", Now, errors));
        Assert.Equal([new FieldError("parent", "would make a cycle: org → research → org")], errors);
        errors.Clear();
        Assert.Null(TeamRules.Define(directory, "nlp", new TeamFields("NLP", "CC-3", "lab"), "admin", Now, errors));
        Assert.Equal("parent", Assert.Single(errors).Field);

        errors.Clear();
        Assert.Equal(new TeamDefined("nlp", "NLP", "CC-3", "research", Now, "admin"),
            TeamRules.Define(directory, "nlp", new TeamFields(" NLP ", "CC-3", "research"), "admin", Now, errors));
        Assert.Empty(errors);
    }

    [Fact]
    public void A_tenant_is_mapped_only_to_a_defined_team()
    {
        var teams = TeamDirectory.Empty.Apply(new TeamDefined("nlp", "NLP", "CC-1", null, Now, "admin")).Teams;
        var errors = new List<FieldError>();

        Assert.Equal(new TenantTeamAssigned("chat", "nlp", Now, "admin"), TeamRules.Assign(teams, "chat", "nlp", "admin", Now, errors));
        Assert.Null(TeamRules.Assign(teams, "chat", "vision", "admin", Now, errors));
        Assert.Equal("team", Assert.Single(errors).Field);
    }
}
