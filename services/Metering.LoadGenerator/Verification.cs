using System.Text;
using Metering.Client;
using Metering.Contracts.Budgets;

namespace Metering.LoadGenerator;

/// <summary>
/// Reads back, per tenant and meter, what Budgets (this month's usage) and Billing (this month's invoice lines) counted,
/// and compares it with what a run sent.
/// </summary>
public sealed class Verification(Uri budgets, Uri billing, string adminToken) : IDisposable
{
    /// <summary><see cref="WaitForMatchAsync"/> is the retry loop: each comparison asks once.</summary>
    private readonly MeteringClient _client = MeteringClient.Create(o =>
    {
        (o.Budgets, o.Billing, o.Token) = (budgets, billing, adminToken);
        o.Resilience = MeteringResilience.RepeatNothing;
    });

    public sealed record Line(string Tenant, string Meter, decimal Sent, decimal Budgets, decimal Billing)
    {
        public bool Matches => Sent == Budgets && Sent == Billing;
    }

    public async Task<IReadOnlyList<Line>> CompareAsync(SentReport sent, CancellationToken ct)
    {
        var lines = new List<Line>();
        var month = DateTime.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        foreach (var tenant in sent.Totals.Select(t => t.Tenant).Distinct())
        {
            var budget = await _client.Budgets.GetBudgetAsync(tenant, ct);
            var invoice = await _client.Billing.GetInvoiceAsync(tenant, month, ct);
            foreach (var total in sent.Totals.Where(t => t.Tenant == tenant))
            {
                var inBudgets = budget.Usage.Where(u => u.Meter == total.Meter && u.Period == Periods.Month).Sum(u => u.Used);
                var inBilling = invoice?.Lines.Where(l => l.Meter == total.Meter && l.AdjustmentFor is null).Sum(l => l.Quantity) ?? 0;
                lines.Add(new Line(tenant, total.Meter, total.Quantity, inBudgets, inBilling));
            }
        }
        return lines;
    }

    /// <summary>
    /// Compares until everything matches or <paramref name="patience"/> runs out; returns the last comparison. Meanwhile
    /// writes how many totals match to <paramref name="progress"/>, every <see cref="LoadRun.ProgressEvery"/> at most.
    /// </summary>
    public async Task<IReadOnlyList<Line>> WaitForMatchAsync(SentReport sent, TimeSpan patience, CancellationToken ct, TextWriter? progress = null)
    {
        var started = DateTime.UtcNow;
        var deadline = started + patience;
        var nextProgress = started + LoadRun.ProgressEvery;
        while (true)
        {
            string state;
            try
            {
                var lines = await CompareAsync(sent, ct);
                if (lines.All(l => l.Matches) || DateTime.UtcNow >= deadline) return lines;
                state = $"{lines.Count(l => l.Matches)} of {lines.Count} totals match";
            }
            catch (Exception ex) when (ex is MeteringApiException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                // A service restarting or a silo being replaced: not an answer yet.
                state = $"no answer yet ({ex.GetType().Name})";
            }
            if (progress is not null && DateTime.UtcNow >= nextProgress)
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"verifying for {(DateTime.UtcNow - started).TotalSeconds:F0} s of at most {patience.TotalSeconds:F0} s: {state}"));
                nextProgress = DateTime.UtcNow + LoadRun.ProgressEvery;
            }
            await Task.Delay(500, ct);
        }
    }

    public static string ToTable(IReadOnlyList<Line> lines)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"tenant",-24} {"meter",-20} {"sent",20} {"budgets",20} {"billing",20}");
        foreach (var l in lines)
            text.AppendLine(CultureInfo.InvariantCulture, $"{l.Tenant,-24} {l.Meter,-20} {l.Sent,20} {l.Budgets,20} {l.Billing,20} {(l.Matches ? "ok" : "DIFFERENT")}");
        text.AppendLine(lines.All(l => l.Matches) ? "every total matches exactly" : $"{lines.Count(l => !l.Matches)} totals differ");
        return text.ToString();
    }

    public void Dispose() => _client.Dispose();
}
