using System.Net;
using System.Net.Sockets;
using Mesh.Splicing;

// An L4 relay for measuring the splicer beside HAProxy, nginx stream and socat (../shared/bench):
//   Mesh.Relay --listen 127.0.0.1:15310 --target 127.0.0.1:15201 [--path managed|kernel] [--completions inline|thread-pool]
// It splices every accepted connection to the target. Once connections stop arriving for half a second it runs a
// compacting GC, so memory read afterwards is what live connections hold, not garbage (idle_mem.sh reads after 2 s).
if (Array.IndexOf(args, "thread-pool") < 0)
{
    // A relay's socket continuations only move bytes and never block: run them on the socket engine's epoll thread rather than
    // handing each wake-up to the thread pool (benchmarks/README.md). The runtime reads this at the first socket operation.
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

IPEndPoint listen = IPEndPoint.Parse("127.0.0.1:15310");
IPEndPoint target = IPEndPoint.Parse("127.0.0.1:15201");
bool kernel = TcpSplicer.KernelPathAvailable;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--listen": listen = IPEndPoint.Parse(args[i + 1]); break;
        case "--target": target = IPEndPoint.Parse(args[i + 1]); break;
        case "--path": kernel = args[i + 1] == "kernel"; break;
        case "--completions": break; // read above, before the first socket

        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

var splicer = new TcpSplicer();
var options = new SpliceOptions { UseKernelPath = kernel };
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
using var listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
listener.Bind(listen);
listener.Listen(4096);
Console.WriteLine($"relay {listen} -> {target}, {(kernel ? "kernel" : "managed")} path");

long accepted = 0;
_ = CollectWhenQuietAsync(stop.Token);
await TcpAcceptLoop.RunAsync(listener, client => _ = RelayAsync(client), cancellationToken: stop.Token);
return 0;

// The handler returns once the splice has started, so that an idle connection holds nothing beyond the splice itself
// (no relay state machine, no registration on the stop token: stopping the relay ends the process and its sockets).
async Task RelayAsync(Socket client)
{
    Interlocked.Increment(ref accepted);
    var upstream = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    try
    {
        await ConnectAsync(upstream, target);
    }
    catch (Exception e) when (e is SocketException or OperationCanceledException)
    {
        client.LingerState = new LingerOption(true, 0);
        client.Dispose();
        upstream.Dispose();
        return;
    }

    _ = splicer.SpliceAsync(client, upstream, default, options);
}

// Connects with event args of its own, given back once connected: Socket.ConnectAsync(EndPoint) would keep its event args
// (about 300 bytes) cached on the socket for the life of the connection, which here only ever waits on the splicer's loop.
// No cancellation: stopping the relay ends the process, and a connect with it.
static async Task ConnectAsync(Socket socket, EndPoint target)
{
    using var connect = new SocketAsyncEventArgs { RemoteEndPoint = target };
    var connected = new TaskCompletionSource<SocketError>(TaskCreationOptions.RunContinuationsAsynchronously);
    connect.Completed += (_, e) => connected.TrySetResult(e.SocketError);
    if (!socket.ConnectAsync(connect))
    {
        connected.TrySetResult(connect.SocketError);
    }

    SocketError error = await connected.Task.ConfigureAwait(false);
    if (error != SocketError.Success)
    {
        throw new SocketException((int)error);
    }
}

async Task CollectWhenQuietAsync(CancellationToken cancellationToken)
{
    long seen = 0;
    bool collected = true;
    using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
    while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
    {
        long now = Interlocked.Read(ref accepted);
        if (now != seen)
        {
            seen = now;
            collected = false;
        }
        else if (!collected)
        {
            collected = true;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
    }
}
