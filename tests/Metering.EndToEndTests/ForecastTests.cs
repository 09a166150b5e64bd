using Metering.Forecasting;

namespace Metering.EndToEndTests;

/// <summary>
/// The month-end spend forecast over HTTP, made as of the 20th of last month (so it holds on any day the tests run):
/// its actual is the spend API's total of the days before, its numbers are the library's for that series with the
/// days left priced with the rate card of the 20th, two days of usage give no forecast, viewers are scoped and every
/// bad parameter is named. Other tests share the system: assertions are about this test's own tenants and model.
/// </summary>
[Collection(MeteringSystemCollection.Name)]
public sealed class ForecastTests(MeteringSystem system)
{
    private readonly BillingRequests _billing = new(system);
    private readonly string _run = Guid.NewGuid().ToString("N")[..10];
    private string Chat => $"fc-chat-{_run}";
    private string Camera => $"fc-camera-{_run}";
    private string Model => $"fc-model-{_run}";

    private static readonly DateOnly MonthStart = LastMonthStart;
    private static readonly ForecastPeriod LastMonth = ForecastPeriod.Of(MonthStart);
    private static readonly DateOnly Twentieth = MonthStart.AddDays(19);
    private static readonly string AsOf = Date(Twentieth) + "T00:00:00Z";

    /// <summary>Output tokens of the chat tenant per day of last month: ten days before the 20th, in uneven amounts.</summary>
    private static readonly Dictionary<int, long> ChatUsage = new()
    {
        [2] = 1_250_000, [3] = 2_000_000, [4] = 1_730_000, [6] = 900_000, [7] = 2_410_000,
        [9] = 1_500_000, [11] = 1_100_000, [13] = 3_050_000, [16] = 1_660_000, [18] = 2_200_000,
    };

    [Fact]
    public async Task The_forecast_as_of_the_20th_is_the_librarys_for_the_spend_of_the_days_before_and_viewers_are_scoped()
    {
        await _billing.DefineSharedTeams();
        await _billing.Admin(HttpMethod.Put, $"/v1/tenants/{Chat}/team", new { team = Nlp });
        await _billing.Admin(HttpMethod.Put, $"/v1/tenants/{Camera}/team", new { team = Vision });
        // 2.00 per million from the month's first day, 3.00 from the 20th: the days left are priced at 3.00.
        await _billing.AddPrice(Model, Date(MonthStart), "2.00");
        await _billing.AddPrice(Model, Date(Twentieth), "3.00");

        var usage = ChatUsage.Select(u => new UsageEvent($"c{u.Key}", Chat, Meters.OutputTokens, u.Value, At(u.Key), Model))
            .Concat([new UsageEvent("v1", Camera, Meters.OutputTokens, 1_000_000, At(5), Model), new UsageEvent("v2", Camera, Meters.OutputTokens, 500_000, At(8), Model)])
            // Usage on the 20th itself and after it is not known as of its midnight.
            .Append(new UsageEvent("c20", Chat, Meters.OutputTokens, 9_000_000, At(20), Model))
            .Append(new UsageEvent("c22", Chat, Meters.OutputTokens, 9_000_000, At(22), Model))
            .ToArray();
        var (posted, text) = await _billing.Send(HttpMethod.Post, "/v1/usage", MeteringSystem.EmitterToken, new { events = usage }, system.Ingest);
        Assert.True(posted == HttpStatusCode.Accepted, text);

        var before = $"from={Date(MonthStart)}&to={Date(Twentieth.AddDays(-1))}";
        var expectedSpend = ChatUsage.Values.Sum(q => q / 1_000_000m * 2.00m);
        await BillingRequests.WaitFor(async () => decimal.Parse((await Spend($"{before}&tenant={Chat}")).Total, CultureInfo.InvariantCulture) == expectedSpend
                                  && (await Spend($"to={Date(MonthStart.AddDays(27))}&from={Date(Twentieth)}&tenant={Chat}")).Total == "54.00"
                                  && (await Spend($"{before}&tenant={Camera}")).Total == "3.00");

        // The actual is the spend API's total of the days before the 20th, and each of its days is priced at 2.00.
        var daily = (await Spend($"{before}&tenant={Chat}")).Series.Single().Points
            .ToDictionary(p => DateOnly.ParseExact(p.Date, "yyyy-MM-dd", CultureInfo.InvariantCulture), p => decimal.Parse(p.Cost, CultureInfo.InvariantCulture));
        Assert.Equal(ChatUsage.ToDictionary(u => MonthStart.AddDays(u.Key - 1), u => u.Value / 1_000_000m * 2.00m), daily);
        var (view, json, body) = await Forecast($"tenant={Chat}&as_of={AsOf}");
        Assert.Equal(((await Spend($"{before}&tenant={Chat}")).Total, LastMonth.ToString()), (view.Actual, view.Period));
        Assert.Equal(new DateTimeOffset(Twentieth.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), view.AsOf);

        // The library's forecast for that series, the history re-priced at 3.00.
        var history = ChatUsage.ToDictionary(u => MonthStart.AddDays(u.Key - 1), u => u.Value / 1_000_000m * 3.00m);
        var expected = MonthForecast.Of(ForecastInput.FromDays(LastMonth, view.AsOf, daily, history), ForecastUnit.Dollars);
        Assert.Equal(ForecastMethods.ProRataRunRate, view.Method);
        Assert.Equal((Money(expected.Forecast), Money(expected.Low), Money(expected.High), "0.8"), (view.Forecast, view.Low, view.High, view.Interval));
        Assert.True(decimal.Parse(view.Low!, CultureInfo.InvariantCulture) < decimal.Parse(view.High!, CultureInfo.InvariantCulture));
        Assert.Equal($"{expected.Explanation[..^1]}; the days left are priced with the rate card in effect on {Date(Twentieth)}.", view.Explanation);
        Assert.Equal(LastMonth.Days, view.Days.Count);
        Assert.Equal(expected.Days.Select(d => (Date(d.Date), Money(d.Actual), Money(d.Forecast), Money(d.Low), Money(d.High))),
            view.Days.Select(d => (d.Date, d.Actual, d.Forecast, d.Low, d.High)));
        Assert.Equal("0.8", (string?)json["interval"]);

        // Two days of usage: no forecast, and why; forecast, low and high are written as null.
        var (camera, cameraJson, cameraBody) = await Forecast($"tenant={Camera}&as_of={AsOf}");
        Assert.Equal(("3.00", (string?)null, (string?)null, (string?)null, ForecastMethods.InsufficientHistory),
            (camera.Actual, camera.Forecast, camera.Low, camera.High, camera.Method));
        Assert.Contains("at least 3 days", camera.Explanation, StringComparison.Ordinal);
        Assert.All(new[] { "forecast", "low", "high" }, field => Assert.True(cameraJson.ContainsKey(field) && cameraJson[field] is null, field));

        // Viewers: their subtree; a tenant or team outside it is 403.
        var nlp = MeteringSystem.ViewerTokens[Nlp];
        Assert.Equal(body, (await Forecast($"tenant={Chat}&as_of={AsOf}", nlp)).Body);
        var subtree = await Forecast($"as_of={AsOf}", nlp);
        Assert.Equal((await Spend($"{before}&group_by=team", nlp)).Total, subtree.View.Actual);
        Assert.Equal(subtree.Body, (await Forecast($"team={Nlp}&as_of={AsOf}", nlp)).Body);
        Assert.Equal(subtree.Body, (await Forecast($"team={Nlp}&as_of={AsOf}")).Body);
        Assert.Equal(cameraBody, (await Forecast($"tenant={Camera}&as_of={AsOf}", MeteringSystem.ViewerTokens[Research])).Body);
        Assert.Equal(HttpStatusCode.Forbidden, (await _billing.Send(HttpMethod.Get, $"/v1/forecast/{LastMonth}?tenant={Camera}&as_of={AsOf}", nlp)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _billing.Send(HttpMethod.Get, $"/v1/forecast/{LastMonth}?team={Vision}", nlp)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _billing.Send(HttpMethod.Get, $"/v1/forecast/{LastMonth}?team={Research}", nlp)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _billing.Send(HttpMethod.Get, $"/v1/forecast/{LastMonth}", MeteringSystem.EmitterToken)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _billing.Send(HttpMethod.Get, $"/v1/forecast/{LastMonth}", null)).Status);

        // Without as_of the period is over: the forecast is the month's total, the usage of the 20th and 22nd included.
        var (now, _, _) = await Forecast($"tenant={Chat}");
        Assert.Equal((ForecastMethods.PeriodComplete, Money(expectedSpend + 54.00m)), (now.Method, now.Actual));
        Assert.Equal((now.Actual, now.Actual, now.Actual), (now.Forecast, now.Low, now.High));
    }

    public static TheoryData<string, string> BadRequests()
    {
        var lastMonth = ForecastPeriod.Of(MonthStart).ToString();
        var nextMonth = ForecastPeriod.Of(DateOnly.FromDateTime(DateTime.UtcNow).AddMonths(1)).ToString();
        return new()
        {
            { "2026-13", "period" },
            { "2026-1", "period" },
            { "1999-12", "period" },
            { nextMonth, "period" },
            { $"{lastMonth}?tenant=Not%20A%20Tenant", "tenant" },
            { $"{lastMonth}?team=%00", "team" },
            { $"{lastMonth}?tenant=acme&team=e2e-nlp", "team,tenant" },
            { $"{lastMonth}?as_of=yesterday", "as_of" },
            { $"{lastMonth}?as_of={Date(MonthStart)}", "as_of" },
            { $"{lastMonth}?as_of={DateTime.UtcNow.AddDays(2):yyyy-MM-dd}T00:00:00Z", "as_of" },
            { $"{lastMonth}?as_of={Date(MonthStart.AddDays(-1))}T23:59:59Z", "as_of" },
            { $"{nextMonth}?as_of={Date(MonthStart)}T00:00:00Z", "as_of" },
            { $"{lastMonth}?as_of={Date(Twentieth)}T00:00:00Z&as_of={Date(Twentieth)}T00:00:00Z", "as_of" },
        };
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_forecast_parameter_is_a_400_naming_it(string pathAndQuery, string fields)
    {
        foreach (var token in new[] { MeteringSystem.AdminToken, MeteringSystem.ViewerTokens[Nlp] })
        {
            using var response = await system.Http.SendAsync(system.Request(HttpMethod.Get, system.Billing, $"/v1/forecast/{pathAndQuery}", token));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name);
            Assert.Equal(fields.Split(','), errors.Order(StringComparer.Ordinal));
        }
    }

    private static DateTimeOffset At(int day) => new(MonthStart.AddDays(day - 1).ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);

    private static string? Money(decimal? amount) =>
        amount is { } a ? Math.Round(a, 2, MidpointRounding.ToEven).ToString("0.00", CultureInfo.InvariantCulture) : null;

    private async Task<(ForecastView View, JsonObject Json, string Body)> Forecast(string query, string token = MeteringSystem.AdminToken)
    {
        var (status, body) = await _billing.Send(HttpMethod.Get, $"/v1/forecast/{LastMonth}?{query}", token);
        Assert.True(status == HttpStatusCode.OK, $"/v1/forecast/{LastMonth}?{query}: {(int)status} {body}");
        return (JsonSerializer.Deserialize<ForecastView>(body, MeteringJson.Options)!, JsonNode.Parse(body)!.AsObject(), body);
    }

    private async Task<SpendView> Spend(string query, string token = MeteringSystem.AdminToken)
    {
        var (status, body) = await _billing.Send(HttpMethod.Get, $"/v1/spend?{query}", token);
        Assert.True(status == HttpStatusCode.OK, $"/v1/spend?{query}: {(int)status} {body}");
        return JsonSerializer.Deserialize<SpendView>(body, MeteringJson.Options)!;
    }
}
