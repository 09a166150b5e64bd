namespace Metering.EndToEndTests;

/// <summary>The billing months (yyyy-MM, UTC) the tests date their usage in, read when used: a run across midnight of a month's end moves with it.</summary>
public static class TestCalendar
{
    public static string Month => DateTime.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    public static string NextMonth => DateTime.UtcNow.AddMonths(1).ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>The first day of last month, which only the spend, forecast and chargeback tests date usage in.</summary>
    public static DateOnly LastMonthStart
    {
        get
        {
            var lastMonth = DateTime.UtcNow.AddMonths(-1);
            return new DateOnly(lastMonth.Year, lastMonth.Month, 1);
        }
    }

    /// <summary>A day as the API's query parameters write it.</summary>
    public static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
