using Microsoft.Extensions.Logging;

namespace Metering.Billing.Benchmarks;

/// <summary>
/// Log messages of Information and above as plain lines on a writer: how the Billing code a benchmark runs (the
/// rebuild's progress) shows on stderr, apart from the report on stdout.
/// </summary>
public sealed class ProgressLogger(TextWriter output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) output.WriteLine(formatter(state, exception));
    }
}
