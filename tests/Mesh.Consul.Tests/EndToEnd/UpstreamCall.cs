using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mesh.Consul.Tests.EndToEnd;

/// <summary>
/// A connection of the calling application to its sidecar's local upstream listener: what is written travels the mesh to the
/// called application and back.
/// </summary>
internal sealed class UpstreamCall : IDisposable
{
    private readonly TcpClient _client;

    private UpstreamCall(TcpClient client) => _client = client;

    public static async Task<UpstreamCall> OpenAsync(int port)
    {
        var client = new TcpClient();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            return new UpstreamCall(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>One call on a new connection: the answer, or null when the connection was reset or closed.</summary>
    public static async Task<string?> TryOnceAsync(int port, string message)
    {
        UpstreamCall call;
        try
        {
            call = await OpenAsync(port);
        }
        catch (SocketException)
        {
            // A listener that resets the connection as it is accepted, or none at all: no answer either way.
            return null;
        }

        using (call)
        {
            return await call.TryEchoAsync(message);
        }
    }

    /// <summary>Sends <paramref name="message"/> and reads as many bytes back; null when the connection is reset or closed first.</summary>
    public async Task<string?> TryEchoAsync(string message)
    {
        byte[] sent = Encoding.UTF8.GetBytes(message);
        byte[] received = new byte[sent.Length];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            NetworkStream stream = _client.GetStream();
            await stream.WriteAsync(sent, timeout.Token);
            int read = 0;
            while (read < received.Length)
            {
                int n = await stream.ReadAsync(received.AsMemory(read), timeout.Token);
                if (n == 0)
                {
                    return null;
                }

                read += n;
            }
        }
        catch (IOException)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The call '{message}' neither answered nor ended within 30 s");
        }

        return Encoding.UTF8.GetString(received);
    }

    public void Dispose() => _client.Dispose();
}
