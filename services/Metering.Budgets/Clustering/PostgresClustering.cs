using System.Net;
using Orleans.Configuration;

namespace Metering.Budgets.Clustering;

/// <summary>
/// Makes every Budgets process that shares a PostgreSQL database and a cluster id one Orleans cluster: membership
/// in <see cref="PostgresMembershipTable"/>, each silo listening for the others on its advertised address and silo port
/// only (loopback by default). No gateway is opened: no Orleans client outside the silos exists, everything reaches
/// Budgets over HTTP.
/// </summary>
public static class PostgresClustering
{
    public const string ClusterIdVariable = "METERING_ORLEANS_CLUSTER_ID";
    public const string AdvertisedIpVariable = "METERING_ORLEANS_ADVERTISED_IP";
    public const string SiloPortVariable = "METERING_ORLEANS_SILO_PORT";

    public const string ServiceId = "metering-budgets";
    public const string DefaultClusterId = "metering-budgets";
    public const string DefaultAdvertisedIp = "127.0.0.1";
    public const int DefaultSiloPort = 11111;
    public static readonly TimeSpan HeartbeatPeriod = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Configures the silo; the schema comes from <see cref="MembershipSchemaMigration"/>, which the host must
    /// register before Orleans.
    /// </summary>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var clusterId = configuration[ClusterIdVariable] is { Length: > 0 } id ? id : DefaultClusterId;
        var advertisedIp = configuration[AdvertisedIpVariable] is { Length: > 0 } ip ? ip : DefaultAdvertisedIp;
        if (!IPAddress.TryParse(advertisedIp, out var address))
            throw new InvalidOperationException($"{AdvertisedIpVariable} is not an IP address: '{advertisedIp}'.");

        silo.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = clusterId;
            options.ServiceId = ServiceId;
        });
        var siloPort = configuration.GetValue(SiloPortVariable, DefaultSiloPort);
        silo.Configure<EndpointOptions>(options =>
        {
            options.AdvertisedIPAddress = address;
            options.SiloPort = siloPort;
            // Where the others reach it, and nowhere else: 127.0.0.1 on one machine, the pod IP in Kubernetes.
            options.SiloListeningEndpoint = new IPEndPoint(address, siloPort);
            options.GatewayPort = 0;
        });
        // A joining silo waits for every silo that heartbeated within IAmAliveTablePublishTimeout ×
        // NumMissedTableIAmAliveLimit; a killed silo is only waited for that long. Orleans' 30 s heartbeat made a
        // restart after a crash wait about 90 s; 10 s makes it about 30 s, for one cheap update per silo every 10 s.
        silo.Configure<ClusterMembershipOptions>(options => options.IAmAliveTablePublishTimeout = HeartbeatPeriod);
        silo.Services.AddSingleton<IMembershipTable, PostgresMembershipTable>();
        return silo;
    }
}
