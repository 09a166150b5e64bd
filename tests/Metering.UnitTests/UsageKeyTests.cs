using Metering.UsageTopic;

namespace Metering.UnitTests;

public class UsageKeyTests
{
    [Fact]
    public void The_same_tenant_and_id_give_the_same_key_and_a_shifted_boundary_does_not()
    {
        Assert.Equal(UsageKey.Of("acme", "req-1"), UsageKey.Of("acme", "req-1"));
        Assert.NotEqual(UsageKey.Of("acme", "req-1"), UsageKey.Of("acme", "req-2"));
        Assert.NotEqual(UsageKey.Of("ab", "c"), UsageKey.Of("a", "bc"));
        Assert.NotEqual(UsageKey.Of("acme", "x"), UsageKey.Of("acme2", "x"));
    }

    [Fact]
    public void Long_ids_are_keyed_too()
    {
        var id = new string('x', 128);
        Assert.NotEqual(UsageKey.Of("acme", id), UsageKey.Of("acme", id[..127] + "y"));
    }
}
