using System.Runtime.InteropServices;
using System.Text;

namespace Metering.DevKafka;

/// <summary>
/// librdkafka's mock cluster: a Kafka wire-protocol broker inside librdkafka, reached over TCP on 127.0.0.1.
/// Everything lives in this process's memory and ends with it.
/// </summary>
internal sealed partial class MockCluster : IDisposable
{
    private const string Lib = "librdkafka";
    private const int ProducerType = 0;

    /// <summary>
    /// What each partition keeps: librdkafka's <c>rd_kafka_mock_partition_init</c> sets 5 MB and 100,000 message sets,
    /// and every append past either drops the oldest message set, read or not. No function of librdkafka 2.16.0 (the
    /// newest served here) sets them; the struct is private, so they are not changed here.
    /// </summary>
    public const string PartitionBound = "each partition keeps at most 5 MB or 100,000 message sets (batches) as produced and drops its oldest past that, read or not";

    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;

    public MockCluster(int brokers)
    {
        var conf = rd_kafka_conf_new();
        var error = new StringBuilder(512);
        Set(conf, "log_level", "3");
        _handle = rd_kafka_new(ProducerType, conf, error, (UIntPtr)error.Capacity);
        if (_handle == IntPtr.Zero) throw new InvalidOperationException($"rd_kafka_new failed: {error}");
        _cluster = rd_kafka_mock_cluster_new(_handle, brokers);
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        BootstrapServers = Marshal.PtrToStringAnsi(rd_kafka_mock_cluster_bootstraps(_cluster))
            ?? throw new InvalidOperationException("the mock cluster has no bootstrap address");
    }

    public string BootstrapServers { get; }

    public void CreateTopic(string name, int partitions)
    {
        var code = rd_kafka_mock_topic_create(_cluster, name, partitions, 1);
        if (code != 0) throw new InvalidOperationException($"creating topic {name} failed with librdkafka error {code}");
    }

    /// <summary>Disconnects every broker and refuses new connections, as if the cluster were unreachable.</summary>
    public void SetDown() => Check(rd_kafka_mock_broker_set_down(_cluster, -1), "set_down");

    public void SetUp() => Check(rd_kafka_mock_broker_set_up(_cluster, -1), "set_up");

    /// <summary>The next <paramref name="count"/> requests of the Kafka API <paramref name="apiKey"/> fail with <paramref name="error"/>.</summary>
    public void PushRequestErrors(short apiKey, int count, int error) =>
        rd_kafka_mock_push_request_errors_array(_cluster, apiKey, (UIntPtr)count, Enumerable.Repeat(error, count).ToArray());

    private static void Check(int code, string what)
    {
        if (code != 0) throw new InvalidOperationException($"{what} failed with librdkafka error {code}");
    }

    public void Dispose()
    {
        rd_kafka_mock_cluster_destroy(_cluster);
        rd_kafka_destroy(_handle);
    }

    private static void Set(IntPtr conf, string name, string value)
    {
        var error = new StringBuilder(512);
        if (rd_kafka_conf_set(conf, name, value, error, (UIntPtr)error.Capacity) != 0)
            throw new InvalidOperationException($"rd_kafka_conf_set {name}: {error}");
    }

    /// <summary>
    /// Loads the librdkafka build that runs on Debian 12 (the default one needs libsasl2.so.3, which Debian 12 lacks).
    /// </summary>
    public static void UseNativeLibrary()
    {
        NativeLibrary.SetDllImportResolver(typeof(MockCluster).Assembly, (name, _, _) =>
        {
            if (name != Lib) return IntPtr.Zero;
            var dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
            foreach (var file in new[] { "centos8-librdkafka.so", "librdkafka.so" })
            {
                if (NativeLibrary.TryLoad(Path.Combine(dir, file), out var handle)) return handle;
            }
            return IntPtr.Zero;
        });
    }

    [DllImport(Lib)] private static extern IntPtr rd_kafka_conf_new();
    [DllImport(Lib)] private static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, StringBuilder errstr, UIntPtr errstrSize);
    [DllImport(Lib)] private static extern IntPtr rd_kafka_new(int type, IntPtr conf, StringBuilder errstr, UIntPtr errstrSize);
    [DllImport(Lib)] private static extern void rd_kafka_destroy(IntPtr rk);
    [DllImport(Lib)] private static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);
    [DllImport(Lib)] private static extern void rd_kafka_mock_cluster_destroy(IntPtr mcluster);
    [DllImport(Lib)] private static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);
    [DllImport(Lib)] private static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);
    [DllImport(Lib)] private static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
    [DllImport(Lib)] private static extern void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, UIntPtr count, int[] errors);
    [DllImport(Lib)] private static extern int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);
}
