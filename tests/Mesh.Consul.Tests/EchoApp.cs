using System.Net;
using System.Net.Sockets;

namespace Mesh.Consul.Tests;

/// <summary>An application on 127.0.0.1 that writes back what it reads, for a sidecar to front.</summary>
internal static class EchoApp
{
    /// <summary>Listens on a free loopback port and echoes every connection until the listener is stopped.</summary>
    public static TcpListener Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _ = EchoAsync(listener);
        return listener;
    }

    /// <summary>The port <paramref name="listener"/> listens on.</summary>
    public static int Port(TcpListener listener) => ((IPEndPoint)listener.LocalEndpoint).Port;

    private static async Task EchoAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await client.GetStream().CopyToAsync(client.GetStream());
                    }
                    catch (IOException)
                    {
                    }
                }
            });
        }
    }
}
