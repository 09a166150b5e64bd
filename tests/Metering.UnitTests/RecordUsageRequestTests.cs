using System.Text;
using Metering.Ingest.Usage;

namespace Metering.UnitTests;

public class RecordUsageRequestTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private static string Event(int i, string quantity = "1") =>
        $$"""{"id":"e{{i}}","tenant":"acme","meter":"input_tokens","quantity":{{quantity}},"timestamp":"2026-11-23T09:00:00Z","model":"m"}""";

    private static (int Events, List<string> Fields) Read(string json)
    {
        var (events, errors, _) = UsageRequestReader.Read(Encoding.UTF8.GetBytes(json), Now);
        return (events.Count, errors.Select(e => e.Field).ToList());
    }

    [Fact]
    public void Valid_events_are_all_read()
    {
        var (events, fields) = Read($$"""{"events":[{{Event(0)}},{{Event(1)}},{{Event(2)}}]}""");
        Assert.Equal(3, events);
        Assert.Empty(fields);
    }

    [Fact]
    public void One_invalid_event_among_valid_ones_is_named_by_index()
    {
        var (_, fields) = Read($$"""{"events":[{{Event(0)}},{{Event(1, "-5")}},{{Event(2)}}]}""");
        Assert.Equal(["events[1].quantity"], fields);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"events":{}}""")]
    [InlineData("""[]""")]
    [InlineData("""{"events":[]}""")]
    public void The_events_array_is_required_and_not_empty(string json) =>
        Assert.Equal(["events"], Read(json).Fields);

    [Fact]
    public void At_most_1000_events_per_request()
    {
        string Body(int n) => $$"""{"events":[{{string.Join(",", Enumerable.Range(0, n).Select(i => Event(i)))}}]}""";
        Assert.Equal(1000, Read(Body(1000)).Events);
        Assert.Equal(["events"], Read(Body(1001)).Fields);
    }
}
