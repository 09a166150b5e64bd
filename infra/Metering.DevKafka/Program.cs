using Metering.Contracts;
using Metering.DevKafka;

// Usage: Metering.DevKafka [--bootstrap-file PATH] [--topic NAME:PARTITIONS]...
// Starts the mock cluster, creates Metering's topics (and any extra --topic, e.g. the benchmark's), writes the
// bootstrap address to PATH (and stdout), then runs until SIGINT/SIGTERM. Tests steer faults through standard input
// (see FaultCommands).
var bootstrapFile = args.SkipWhile(a => a != "--bootstrap-file").Skip(1).FirstOrDefault();
var extraTopics = args.Zip(args.Skip(1)).Where(p => p.First == "--topic").Select(p => p.Second.Split(':'))
    .Select(t => new KafkaTopic(t[0], int.Parse(t[1], System.Globalization.CultureInfo.InvariantCulture)));

MockCluster.UseNativeLibrary();
using var cluster = new MockCluster(brokers: 1);
var topics = KafkaTopics.All.Concat(extraTopics).ToList();
foreach (var topic in topics)
    cluster.CreateTopic(topic.Name, topic.Partitions);

if (bootstrapFile is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(bootstrapFile))!);
    var temp = bootstrapFile + ".tmp";
    File.WriteAllText(temp, cluster.BootstrapServers);
    File.Move(temp, bootstrapFile, overwrite: true);
}
// One line (tests read the next one as the answer to their first fault command); ./metering prints the bound from it.
Console.WriteLine($"dev kafka broker ready: bootstrap={cluster.BootstrapServers} topics={string.Join(",", topics.Select(t => $"{t.Name}:{t.Partitions}"))} bound: {MockCluster.PartitionBound}");

_ = Task.Run(() => FaultCommands.Run(cluster, Console.In, Console.Out));

var stop = new TaskCompletionSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.TrySetResult(); });
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
await stop.Task;

if (bootstrapFile is not null) File.Delete(bootstrapFile);
Console.WriteLine("dev kafka broker stopped");
