using System.CommandLine;

namespace Metering.UnitTests;

/// <summary>A parsed command line invoked as its program would invoke it, with what it wrote to output and errors.</summary>
public sealed record CommandLineRun(int Exit, string Output, string Errors)
{
    public static async Task<CommandLineRun> InvokeAsync(ParseResult parsed)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var exit = await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = errors, ProcessTerminationTimeout = null })
            .WaitAsync(TimeSpan.FromSeconds(10));
        return new CommandLineRun(exit, output.ToString(), errors.ToString());
    }

    /// <summary>Help: exit code 0, the usage with <paramref name="text"/> in it, nothing on errors.</summary>
    public void AssertHelp(string text)
    {
        Assert.Equal(0, Exit);
        Assert.Contains("Usage:", Output, StringComparison.Ordinal);
        Assert.Contains(text, Output, StringComparison.Ordinal);
        Assert.Empty(Errors);
    }

    /// <summary>Refused: exit code 1 and <paramref name="message"/> on errors, without a stack trace.</summary>
    public void AssertRefused(string message)
    {
        Assert.Equal(1, Exit);
        Assert.Contains(message, Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", Errors, StringComparison.Ordinal);
    }
}
