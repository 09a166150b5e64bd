using System.CommandLine;
using Metering.LoadGenerator;
using Metering.LoadGenerator.CommandLine;

// Ctrl-C is the load run's own (it stops sending and still reports), so System.CommandLine does not handle it.
return await new LoadRunCommand().ParseCommandLine(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
