using System.Net;
using System.Net.Sockets;

namespace Metering.Testing;

public static class FreePorts
{
    /// <summary>A port of 127.0.0.1 that nothing listens on at this moment (the kernel's pick for a listener on port 0).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
