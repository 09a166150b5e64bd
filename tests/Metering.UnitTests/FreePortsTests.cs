using System.Net;
using System.Net.Sockets;
using Metering.Testing;

namespace Metering.UnitTests;

/// <summary>The ports tests start services on: never one the kernel could hand out meanwhile, never one twice.</summary>
public sealed class FreePortsTests
{
    [Fact]
    public void Ports_are_distinct_below_the_ephemeral_range_bindable_and_their_blocks_locked_against_other_processes()
    {
        var ports = Enumerable.Range(0, 250).Select(_ => FreePorts.Next()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, 20_000, FreePorts.EphemeralLowest() - 1));
        foreach (var port in ports)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
        Assert.True(FreePorts.HeldBlockFiles.Count >= 3, $"250 ports from blocks of 100 need three blocks: {FreePorts.HeldBlockFiles.Count}");
        // A second open without sharing is what another test process's FreePorts does; the flock refuses it.
        Assert.All(FreePorts.HeldBlockFiles, file => Assert.Throws<IOException>(() => new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None)));
    }
}
