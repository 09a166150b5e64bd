using System.Net;
using System.Net.Sockets;

namespace Metering.Testing;

/// <summary>
/// Ports of 127.0.0.1 for the processes and listeners tests start. A port is taken some time before the child binds it,
/// so the kernel's own pick (a listener on port 0) could go to a second caller in that gap, or become an outgoing
/// connection's source port, and one service would answer on another's address. These come from below the kernel's
/// ephemeral range, which neither a bind to port 0 nor a connection ever takes; from a block of ports this test process
/// holds a lock file for (released when it exits), so two test processes never share one; and never twice in a process,
/// so a service that was killed keeps its port for its restart.
/// </summary>
public static class FreePorts
{
    private const int Lowest = 20_000;
    private const int BlockSize = 100;
    private static readonly Lock Gate = new();
    private static readonly List<FileStream> HeldBlocks = [];
    private static int _next, _blockEnd;

    /// <summary>The lock files of the blocks this process holds.</summary>
    public static IReadOnlyList<string> HeldBlockFiles
    {
        get
        {
            lock (Gate) return [.. HeldBlocks.Select(b => b.Name)];
        }
    }

    public static int Next()
    {
        lock (Gate)
        {
            while (true)
            {
                if (_next == _blockEnd) TakeBlock();
                var port = _next++;
                if (Bindable(port)) return port;
            }
        }
    }

    private static void TakeBlock()
    {
        var blocks = (EphemeralLowest() - Lowest) / BlockSize;
        if (blocks <= 0) throw new InvalidOperationException($"no ports below the ephemeral range start above {Lowest}");
        var directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "metering-test-ports")).FullName;
        var first = Random.Shared.Next(blocks);
        for (var i = 0; i < blocks; i++)
        {
            var block = (first + i) % blocks;
            try
            {
                // FileShare.None is an exclusive flock on Unix: held by this process until it exits, however it exits.
                HeldBlocks.Add(new FileStream(Path.Combine(directory, $"{block}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
                continue; // another test process holds it
            }
            _next = Lowest + block * BlockSize;
            _blockEnd = _next + BlockSize;
            return;
        }
        throw new InvalidOperationException($"every block of test ports in {directory} is held by another process");
    }

    private static bool Bindable(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false; // something outside the tests listens there
        }
    }

    /// <summary>The first port the kernel hands out on its own (Linux: net.ipv4.ip_local_port_range).</summary>
    public static int EphemeralLowest()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], out var lowest)
            ? lowest
            : 32_768;
    }
}
