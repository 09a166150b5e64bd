using System.Text.Json;

namespace Metering.DeploymentTests.Checks;

/// <summary>The Grafana dashboard asks Prometheus only for metrics that something really emits.</summary>
public static class DashboardChecks
{
    public const string RelativePath = "infra/k8s/observability/dashboards/metering.json";

    /// <summary>
    /// Panels that wait for instruments the services do not record yet (service code, README "Reading the dashboard").
    /// Once an instrument exists the check below fails until it is taken off this list.
    /// </summary>
    public static readonly IReadOnlySet<string> AwaitingInstruments = new HashSet<string>();

    public static IReadOnlyList<string> Queries(string root)
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, RelativePath)));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList();
    }

    /// <summary>Prometheus names of the project's own instruments, as the OpenTelemetry Prometheus exporters write them.</summary>
    public static IReadOnlySet<string> EmittedByCode(string root)
    {
        var instrument = new Regex(@"Create(?<kind>Counter|UpDownCounter|Histogram|Gauge|ObservableGauge|ObservableCounter|ObservableUpDownCounter)<[^>]+>\(\s*""(?<name>[a-z0-9._]+)""(?<arguments>[^;]*)");
        var unitArgument = new Regex(@"\bunit:\s*""(?<unit>[^""]+)""");
        var names = new HashSet<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "services"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")) continue;
            foreach (Match m in instrument.Matches(File.ReadAllText(file)))
            {
                var name = m.Groups["name"].Value.Replace('.', '_') + UnitSuffix(unitArgument.Match(m.Groups["arguments"].Value).Groups["unit"].Value);
                names.Add(m.Groups["kind"].Value is "Counter" or "ObservableCounter" ? name + "_total" : name);
                if (m.Groups["kind"].Value == "Histogram") names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            }
        }
        return names;
    }

    /// <summary>The suffix the Prometheus exporters add for an instrument's unit (only the units this project uses).</summary>
    private static string UnitSuffix(string unit) => unit switch
    {
        "" => "",
        "ms" => "_milliseconds",
        "s" => "_seconds",
        _ => throw new InvalidOperationException($"unit {unit}: teach DashboardChecks its Prometheus suffix"),
    };

    public static IEnumerable<string> Check(string root)
    {
        var queries = Queries(root);
        var emitted = EmittedByCode(root);
        var used = queries.SelectMany(q => Regex.Matches(q, @"\bmetering_[a-z0-9_]+").Select(m => m.Value)).ToHashSet();
        foreach (var metric in used.Where(m => !emitted.Contains(m) && !AwaitingInstruments.Contains(m)))
            yield return $"{RelativePath}: {metric} is emitted by no instrument in services/";
        foreach (var metric in AwaitingInstruments.Where(emitted.Contains))
            yield return $"{RelativePath}: {metric} is emitted now; take it off DashboardChecks.AwaitingInstruments";

        if (queries.Any(q => q.Contains("kafka_consumer_group_lag", StringComparison.Ordinal)))
            foreach (var config in new[] { "infra/k8s/base/otel-collector-config.yaml", "infra/k8s/overlays/dev/otel-collector-config.yaml" })
                if (!Regex.IsMatch(File.ReadAllText(Path.Combine(root, config)), @"receivers: \[[^\]]*kafkametrics[^\]]*\]"))
                    yield return $"{config}: the dashboard's consumer lag needs the kafkametrics receiver in the metrics pipeline";

        var sources = string.Concat(Directory.EnumerateFiles(Path.Combine(root, "services"), "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
        foreach (Match route in Regex.Matches(string.Concat(queries), @"http_route=\\?""(?<route>[^""\\]+)"))
            if (!sources.Contains($"\"{route.Groups["route"].Value}\"", StringComparison.Ordinal))
                yield return $"{RelativePath}: route {route.Groups["route"].Value} is mapped by no service";
    }
}
