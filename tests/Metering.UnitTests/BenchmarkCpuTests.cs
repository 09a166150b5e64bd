using System.Diagnostics;
using Metering.Benchmarks;
using Metering.LoadGenerator;
using Metering.LoadGenerator.Benchmarks;

namespace Metering.UnitTests;

/// <summary>
/// The benchmarks' CPU accounting from /proc: a process's stat line (whose name may hold spaces and parentheses), the
/// machine's line, and the per-event arithmetic over a window in which processes start and end.
/// </summary>
public sealed class BenchmarkCpuTests
{
    // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itreal starttime ...
    private const string OddName = "4242 (my (odd) ) name) S 17 4242 4242 0 -1 4194560 1200 0 3 0 1234 567 89 10 20 0 24 0 987654 3000000 1500 18446744073709551615";

    [Fact]
    public void A_stat_line_is_read_to_the_last_parenthesis_whatever_the_name_holds()
    {
        var stat = ProcStat.Parse(OddName);

        Assert.Equal((4242, "my (odd) ) name", 17, 1234L, 567L, 987654L), (stat.Pid, stat.Name, stat.ParentPid, stat.UserTicks, stat.SystemTicks, stat.StartTicks));
        Assert.Equal(1801, stat.Ticks); // children's time (cutime, cstime) is not the process's own
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242 no name S 17")]
    [InlineData("4242 (short) S 17 4242")]
    public void A_line_that_is_not_a_stat_line_is_refused(string line) =>
        Assert.Throws<FormatException>(() => ProcStat.Parse(line));

    [Fact]
    public void This_process_reads_as_itself_and_its_ticks_agree_with_the_runtime()
    {
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        var stat = ProcStat.Read(Environment.ProcessId)!.Value;
        var after = Process.GetCurrentProcess().TotalProcessorTime;

        Assert.Equal(Environment.ProcessId, stat.Pid);
        Assert.Equal(100, ClockTicks.PerSecond); // sysconf(_SC_CLK_TCK) on Linux
        var seconds = (double)stat.Ticks / ClockTicks.PerSecond;
        Assert.InRange(seconds, before.TotalSeconds - 0.02, after.TotalSeconds + 0.02);
        Assert.Null(ProcStat.Read(int.MaxValue));
    }

    [Fact]
    public void The_machine_is_busy_for_all_but_idle_and_iowait_and_guest_time_is_not_counted_twice()
    {
        var machine = MachineCpu.Parse("cpu  4999192 28322 794042 1810642 15001 0 26602 14791 900 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n");

        Assert.Equal(4999192L + 28322 + 794042 + 26602 + 14791, machine.BusyTicks);
        Assert.Equal(machine.BusyTicks + 1810642 + 15001, machine.AllTicks);
    }

    [Fact]
    public void Cpu_per_event_counts_what_each_group_used_in_the_window_new_processes_whole_and_ended_ones_as_lost()
    {
        CpuGroup Group(string name, bool counted = true) => new(name, _ => Task.FromResult<IReadOnlyCollection<int>>([]), counted);
        ProcStat P(int pid, long user, long system, long start = 1) => new(pid, "p", 1, user, system, start);
        IReadOnlyDictionary<int, ProcStat> Of(params ProcStat[] stats) => stats.ToDictionary(s => s.Pid);
        var groups = new[] { Group("ingest"), Group("postgres"), Group("server", counted: false) };
        var before = new CpuSnapshot(TimeSpan.FromSeconds(1), new MachineCpu(1_000, 10_000), new Dictionary<string, IReadOnlyDictionary<int, ProcStat>>
        {
            ["ingest"] = Of(P(10, 100, 50)),
            ["postgres"] = Of(P(20, 10, 10), P(21, 5, 5), P(22, 7, 0)),
            ["server"] = Of(P(30, 1, 1)),
        });
        var after = new CpuSnapshot(TimeSpan.FromSeconds(11), new MachineCpu(2_500, 12_000), new Dictionary<string, IReadOnlyDictionary<int, ProcStat>>
        {
            ["ingest"] = Of(P(10, 400, 150)), // +400 ticks
            // 20: +20; 21 ended (lost); 22's pid now belongs to a process started since (all 30 ticks); 23 new (40).
            ["postgres"] = Of(P(20, 25, 15), P(22, 20, 10, start: 500), P(23, 30, 10, start: 600)),
            ["server"] = Of(P(30, 101, 1)), // +100, printed apart
        });

        var use = CpuUse.Between(before, after, groups, events: 100_000, ticksPerSecond: 100, cores: 2);

        Assert.Equal(TimeSpan.FromSeconds(10), use.Window);
        Assert.Equal([("ingest", 400L, 0), ("postgres", 90L, 1), ("server", 100L, 0)], use.Groups.Select(g => (g.Name, g.Ticks, g.Ended)));
        Assert.Equal(490, use.CountedTicks);
        // 400 ticks of 10 ms over 100,000 events = 40 µs each; postgres 90 ticks = 9 µs; the machine 1,500 ticks = 150 µs.
        Assert.Equal(40, use.MicrosecondsPerEvent(400), 9);
        Assert.Equal(0.75, use.MachineBusyShare, 9);
        Assert.Equal("cpu per event: ingest 40 µs, postgres 9 µs = 49 µs of CPU per event (100,000 events in 10.0 s); machine busy 150 µs per event, " +
            "101 µs of it elsewhere (75 % of 2 cores); apart from the sum: server 10 µs; 1 of postgres ended in the window, their last CPU lost", use.ToString());

        // No events (authorize alone): the CPU time itself, nothing divided by zero.
        var idle = CpuUse.Between(before, after, groups, events: 0, ticksPerSecond: 100, cores: 2);
        Assert.Equal("cpu with no events: ingest 4.00 s, postgres 0.90 s = 4.90 s of CPU (0 events in 10.0 s); machine busy 15.00 s, " +
            "10.10 s of it elsewhere (75 % of 2 cores); apart from the sum: server 1.00 s; 1 of postgres ended in the window, their last CPU lost", idle.ToString());
        var summary = new BenchmarkSummary();
        summary.AddCpu("authorize", idle);
        Assert.Equal(["authorize cpu ingest: 4.00 s", "authorize cpu postgres: 0.90 s", "authorize cpu server: 1.00 s", "authorize cpu total: 4.90 s",
            "authorize cpu machine busy share: 75 %"], summary.Lines);
    }

    [Fact]
    public async Task A_window_over_this_process_sees_the_cpu_it_burns()
    {
        var groups = new[] { CpuGroup.Of("me", Environment.ProcessId), CpuGroup.Of("nobody", 0) };
        var window = await CpuWindow.StartAsync(groups, CancellationToken.None);
        var spent = Process.GetCurrentProcess().TotalProcessorTime;
        while (Process.GetCurrentProcess().TotalProcessorTime - spent < TimeSpan.FromMilliseconds(300)) { }

        var use = await window.EndAsync(events: 1000, CancellationToken.None);

        var me = use.Groups.Single(g => g.Name == "me");
        Assert.InRange(me.Ticks, 28, 500); // at least the 300 ms burnt, less the tick rounding at either end
        Assert.Equal(0, use.Groups.Single(g => g.Name == "nobody").Ticks);
        Assert.True(use.MachineBusyTicks >= me.Ticks - 2, $"machine {use.MachineBusyTicks} < this process {me.Ticks}");
    }
}

/// <summary>The load run's requests: full batches at a rate that fills them, lingering ones at a rate that does not, and what is printed of them.</summary>
public sealed class LoadRunBatchTests
{
    private sealed class RecordingSink : IUsageSink
    {
        public Task SendAsync(IReadOnlyList<UsageEvent> batch, CancellationToken ct) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task At_a_rate_that_fills_them_requests_are_full_batches()
    {
        await using var sink = new RecordingSink();

        var report = await LoadRun.RunAsync(new LoadOptions { EventsPerSecond = 5000, Duration = TimeSpan.FromSeconds(2), Tenants = 5, BatchSize = 200, Linger = TimeSpan.FromSeconds(1) }, sink);

        var sizes = report.Requests.Sizes;
        Assert.Equal(report.Events, sizes.Sum());
        Assert.All(sizes.SkipLast(1), size => Assert.Equal(200, size)); // the last is what was left when the run ended
        Assert.Equal(200, report.Requests.Percentile(50));
    }

    [Fact]
    public async Task At_a_low_rate_a_batch_is_sent_once_it_has_lingered()
    {
        await using var sink = new RecordingSink();

        var report = await LoadRun.RunAsync(new LoadOptions { EventsPerSecond = 200, Duration = TimeSpan.FromSeconds(2), Tenants = 5, BatchSize = 200, Linger = TimeSpan.FromMilliseconds(100) }, sink);

        // 200 events/s for 100 ms is about 20 events a request, about 10 requests a second; not one full batch.
        Assert.Equal(report.Events, report.Requests.Sizes.Sum());
        Assert.InRange(report.Requests.Count, 10, 21);
        Assert.InRange(report.Requests.Percentile(50), 12, 40);
        Assert.All(report.Requests.Sizes, size => Assert.InRange(size, 1, 199));
    }

    [Fact]
    public void Request_sizes_print_their_mean_percentiles_and_rate()
    {
        var sizes = new RequestSizes([.. Enumerable.Repeat(200, 18), 100, 50], TimeSpan.FromSeconds(4));

        Assert.Equal("requests: 20 (5.0/s), events per request mean 187.5, p50 200, p95 200", sizes.ToString());
        Assert.Equal(50, sizes.Percentile(5));
    }
}

/// <summary>The budgets benchmark's background fleet, a process of its own, stopped as the benchmark stops it.</summary>
public sealed class FleetProcessTests
{
    [Fact]
    public async Task A_fleet_that_cannot_stop_in_time_is_killed_and_reported_not_thrown()
    {
        // The broker is nowhere: the emitter keeps every event for Kafka, so once told to stop the fleet never finishes sending.
        var nowhere = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        await using var fleet = FleetProcess.Start(200, "stuck-", "kafka", nowhere, "token", $"127.0.0.1:{FreePorts.Next()}", batch: 50);
        await Task.Delay(TimeSpan.FromSeconds(3));

        var clock = Stopwatch.StartNew();
        var stopped = await fleet.StopAsync(patience: TimeSpan.FromSeconds(3));

        Assert.True(stopped.EventsPerSecond is null, stopped.OutputTail);
        Assert.True(stopped.ToString() == "the fleet did not stop within 3 s of being told to and was killed", $"{stopped}: {stopped.OutputTail}");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(20));
        Assert.True(Process.GetProcesses().All(p => p.Id != fleet.Pid || p.HasExited), "the fleet process is still running");
    }

    [Fact]
    public async Task A_fleet_that_stops_reports_the_rate_it_sent()
    {
        var nowhere = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        // Nothing to send at this rate within the run: it stops at once and reports 0 events/s.
        await using var fleet = FleetProcess.Start(0.001, "idle-", "http", nowhere, "token", "127.0.0.1:1", batch: 50);
        await Task.Delay(TimeSpan.FromSeconds(3));

        var stopped = await fleet.StopAsync(patience: TimeSpan.FromSeconds(20));

        Assert.True(stopped.Problem is null, stopped.OutputTail);
        Assert.Equal(0, stopped.EventsPerSecond);
    }
}

/// <summary>The budgets benchmark's open-loop schedule and the rule that voids a latency its client could not keep, and the summary lines.</summary>
public sealed class OpenLoopTests
{
    [Fact]
    public async Task Requests_go_out_on_schedule_never_early_and_each_is_measured()
    {
        var sentAt = new long[300];
        var clock = Stopwatch.StartNew();

        var result = await OpenLoop.RunAsync(300, 1000, async i =>
        {
            sentAt[i] = clock.ElapsedTicks;
            await Task.Run(() => Thread.Sleep(2)); // nanosleep: at least 2 ms, where a timer's coarse clock may fire early
            return i % 100 != 7;
        });

        // 300 at 1,000/s: the last is due at 299 ms; none goes out before it is due.
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(299), TimeSpan.FromSeconds(10));
        Assert.All(result.LatenessMs, late => Assert.True(late >= 0, $"a request went out {-late} ms early"));
        Assert.All(Enumerable.Range(1, 299), i => Assert.True(sentAt[i] >= sentAt[i - 1]));
        Assert.All(result.LatencyMs, latency => Assert.InRange(latency, 1.5, 10_000));
        var figures = result.From(100);
        Assert.Equal((200, 2, "2 × not allowed"), (figures.LatencyMs.Count, figures.Failures, figures.Reasons()));
    }

    [Theory]
    [InlineData(0.99, false)]
    [InlineData(1.0, false)]
    [InlineData(1.01, true)]
    public void A_latency_is_void_when_the_clients_p99_lateness_is_over_one_millisecond(double p99Lateness, bool isVoid)
    {
        var lateness = Enumerable.Repeat(0.05, 99).Append(p99Lateness).Append(50).Order().ToList();

        Assert.Equal(isVoid, new OpenLoop.Figures([1.0], lateness, [0.01], new Dictionary<string, int>()).Void);
    }

    [Fact]
    public void A_summary_is_one_name_value_and_unit_per_line()
    {
        var summary = new BenchmarkSummary();
        summary.Add("sustained", 39_876.4, "events/s");
        summary.Add("authorize p99", 4.567, "ms", "F2");
        summary.Add("memory resident per tenant", double.NaN, "KiB", "F2");
        summary.Add("authorize latency figure", "VOID");

        Assert.Equal(["sustained: 39876 events/s", "authorize p99: 4.57 ms", "memory resident per tenant: n/a KiB", "authorize latency figure: VOID"], summary.Lines);
        Assert.Throws<ArgumentException>(() => summary.Add("a: b", 1, "x"));
    }

    [Fact]
    public async Task Results_are_the_report_ending_in_the_summary_block_and_the_summary_alone_beside_it()
    {
        var folder = Directory.CreateTempSubdirectory("bench-results-").FullName;
        var summary = new BenchmarkSummary();
        summary.Add("record", 41_000, "events/s");
        var report = string.Join("\n", new[] { "record: 41,000 events/s" }.Concat(BenchmarkResults.Block(summary)));
        var said = new StringWriter();

        await BenchmarkResults.WriteAsync(folder, "billing", report, summary, said);

        var written = Directory.GetFiles(folder).Order().ToList();
        Assert.Equal(2, written.Count);
        Assert.Matches(@"/billing-\d{8}-\d{6}\.summary\.txt$", written[0]);
        Assert.Equal(["record: 41000 events/s"], await File.ReadAllLinesAsync(written[0]));
        Assert.Equal("record: 41,000 events/s\nsummary\nrecord: 41000 events/s", await File.ReadAllTextAsync(written[1]));
        Assert.Contains($"results written to {written[1]}", said.ToString());
        Assert.Empty(BenchmarkResults.Block(new BenchmarkSummary()));
        Directory.Delete(folder, recursive: true);
    }
}
