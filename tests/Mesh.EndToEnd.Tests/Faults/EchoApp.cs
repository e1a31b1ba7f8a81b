using System.Net;
using System.Net.Sockets;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>
/// An application behind a sidecar that can be killed and started again on the same port: it echoes each connection's bytes
/// until the peer half-closes, and counts the connections it accepted. Killing it closes its listener and resets every
/// connection it holds, as a crashed process's kernel does.
/// </summary>
internal sealed class EchoApp : IAsyncDisposable
{
    private readonly List<Socket> _open = [];
    private Socket? _listener;
    private Task? _loop;
    private int _served;

    private EchoApp(IPEndPoint endPoint) => EndPoint = endPoint;

    public IPEndPoint EndPoint { get; private set; }

    /// <summary>Connections that carried bytes: calls, not the sidecar's checks (which connect and close).</summary>
    public int Served => Volatile.Read(ref _served);

    public static EchoApp Start(int port = 0)
    {
        var app = new EchoApp(new IPEndPoint(IPAddress.Loopback, port));
        app.Listen();
        return app;
    }

    /// <summary>Starts again on the port it had.</summary>
    public void Restart() => Listen();

    public async Task KillAsync()
    {
        _listener?.Dispose();
        _listener = null;
        lock (_open)
        {
            foreach (Socket socket in _open)
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Dispose();
            }

            _open.Clear();
        }

        if (_loop is not null)
        {
            await _loop;
        }
    }

    private void Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(EndPoint);
        listener.Listen();
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _listener = listener;
        _loop = Task.Run(() => AcceptLoop(listener));
    }

    private async Task AcceptLoop(Socket listener)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync();
            }
            catch (Exception)
            {
                return;
            }

            lock (_open)
            {
                _open.Add(socket);
            }

            _ = Task.Run(async () =>
            {
                var buffer = new byte[16 * 1024];
                try
                {
                    int read;
                    bool counted = false;
                    while ((read = await socket.ReceiveAsync(buffer)) > 0)
                    {
                        if (!counted)
                        {
                            counted = true;
                            Interlocked.Increment(ref _served);
                        }

                        await socket.SendAsync(buffer.AsMemory(0, read));
                    }

                    socket.Shutdown(SocketShutdown.Send);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
                finally
                {
                    lock (_open)
                    {
                        _open.Remove(socket);
                    }

                    socket.Dispose();
                }
            });
        }
    }

    public async ValueTask DisposeAsync() => await KillAsync();
}
