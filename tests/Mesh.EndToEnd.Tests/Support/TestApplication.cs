using System.Net;
using System.Net.Sockets;

namespace Mesh.EndToEnd.Tests.Support;

/// <summary>
/// The application behind a sidecar: echoes every byte back, and when its peer half-closes, finishes its echo and
/// half-closes too. It records the remote address of every connection it accepted.
/// </summary>
internal sealed class TestApplication : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Task _loop;
    private readonly List<EndPoint> _peers = [];

    private TestApplication(Socket listener)
    {
        _listener = listener;
        _loop = Task.Run(AcceptLoop);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public IReadOnlyList<EndPoint> Peers
    {
        get
        {
            lock (_peers)
            {
                return [.. _peers];
            }
        }
    }

    public static TestApplication Start(IPAddress? address = null)
    {
        address ??= IPAddress.Loopback;
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, 0));
        listener.Listen();
        return new TestApplication(listener);
    }

    private async Task AcceptLoop()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync();
            }
            catch (Exception)
            {
                return;
            }

            lock (_peers)
            {
                _peers.Add(socket.RemoteEndPoint!);
            }

            _ = Task.Run(async () =>
            {
                using (socket)
                {
                    var buffer = new byte[64 * 1024];
                    try
                    {
                        while (true)
                        {
                            int read = await socket.ReceiveAsync(buffer);
                            if (read == 0)
                            {
                                socket.Shutdown(SocketShutdown.Send);
                                return;
                            }

                            await socket.SendAsync(buffer.AsMemory(0, read));
                        }
                    }
                    catch (SocketException)
                    {
                    }
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _loop;
    }
}
