namespace Metering.DevKafka;

/// <summary>
/// Faults a test can inject, one command per line on standard input; each is answered with <c>ok</c> or <c>error: …</c>.
/// <list type="bullet">
/// <item><c>down</c> / <c>up</c>: every broker refuses or accepts connections.</item>
/// <item><c>request-errors API COUNT ERROR</c>: the next COUNT requests of Kafka API key API fail with error code ERROR
/// (e.g. <c>request-errors 0 3 -195</c>: three produce requests lose their connection).</item>
/// </list>
/// End of input just ends the commands: under <c>./metering up</c> standard input is empty.
/// </summary>
internal static class FaultCommands
{
    public static void Run(MockCluster cluster, TextReader input, TextWriter output)
    {
        while (input.ReadLine() is { } line)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            try
            {
                switch (words)
                {
                    case ["down"]: cluster.SetDown(); break;
                    case ["up"]: cluster.SetUp(); break;
                    case ["request-errors", var api, var count, var error]:
                        cluster.PushRequestErrors(short.Parse(api), int.Parse(count), int.Parse(error));
                        break;
                    case []: continue;
                    default: throw new FormatException($"unknown command '{line}'");
                }
                output.WriteLine("ok");
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException or OverflowException)
            {
                output.WriteLine($"error: {ex.Message}");
            }
            output.Flush();
        }
    }
}
