namespace Metering.EndToEndTests;

/// <summary>The TCP sockets a process listens on, read from Linux's /proc: its socket inodes matched against /proc/net/tcp(6).</summary>
public static class ListeningSockets
{
    private const string Listen = "0A";

    public static IReadOnlyList<IPEndPoint> Of(int processId)
    {
        var inodes = new HashSet<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{processId}/fd"))
        {
            var target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)) inodes.Add(target["socket:[".Length..^1]);
        }
        var endpoints = new List<IPEndPoint>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields[3] == Listen && inodes.Contains(fields[9])) endpoints.Add(Parse(fields[1]));
            }
        return endpoints;
    }

    /// <summary>"0100007F:1F90": the address as the kernel stores it (32-bit words in host order, little-endian here), then the port.</summary>
    private static IPEndPoint Parse(string local)
    {
        var (address, port) = (local.Split(':')[0], int.Parse(local.Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        var bytes = new byte[address.Length / 2];
        for (var word = 0; word < bytes.Length / 4; word++)
            for (var b = 0; b < 4; b++)
                bytes[word * 4 + b] = byte.Parse(address.AsSpan(word * 8 + (3 - b) * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new IPEndPoint(new IPAddress(bytes), port);
    }
}
