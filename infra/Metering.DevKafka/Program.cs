using Metering.Contracts;
using Metering.DevKafka;

// Usage: Metering.DevKafka [--bootstrap-file PATH]
// Starts the mock cluster, creates Metering's topics, writes the bootstrap address to PATH (and stdout),
// then runs until SIGINT/SIGTERM. Tests steer faults through standard input (see FaultCommands).
var bootstrapFile = args.SkipWhile(a => a != "--bootstrap-file").Skip(1).FirstOrDefault();

MockCluster.UseNativeLibrary();
using var cluster = new MockCluster(brokers: 1);
foreach (var topic in KafkaTopics.All)
    cluster.CreateTopic(topic.Name, topic.Partitions);

if (bootstrapFile is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(bootstrapFile))!);
    var temp = bootstrapFile + ".tmp";
    File.WriteAllText(temp, cluster.BootstrapServers);
    File.Move(temp, bootstrapFile, overwrite: true);
}
Console.WriteLine($"dev kafka broker ready: bootstrap={cluster.BootstrapServers} topics={string.Join(",", KafkaTopics.All.Select(t => $"{t.Name}:{t.Partitions}"))}");

_ = Task.Run(() => FaultCommands.Run(cluster, Console.In, Console.Out));

var stop = new TaskCompletionSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.TrySetResult(); });
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
await stop.Task;

if (bootstrapFile is not null) File.Delete(bootstrapFile);
Console.WriteLine("dev kafka broker stopped");
