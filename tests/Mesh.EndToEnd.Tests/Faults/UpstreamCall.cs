using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>What a caller of an upstream listener sees: the echoed reply, or the reset it got instead.</summary>
internal static class UpstreamCall
{
    /// <summary>Sends <paramref name="message"/>, half-closes and reads to the end; a reset is returned as text naming it.</summary>
    public static async Task<string> SendAsync(IPEndPoint upstream, string message)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(upstream, timeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(message), timeout.Token);
        socket.Shutdown(SocketShutdown.Send);
        using var received = new MemoryStream();
        byte[] buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException e)
        {
            return $"(reset after {received.Length} bytes: {e.SocketErrorCode})";
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
