using System.Net;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Sni.Gateway;

// A mesh gateway for ../shared/bench: it routes *.dc2.internal.<trust-domain> (a remote datacenter's wildcard chain) to the
// target, exactly as a dc1 gateway forwards to dc2's gateway, so it can be measured beside HAProxy and nginx SNI routers.
//
//   dotnet run -c Release --project benchmarks/Mesh.GatewayRelay -- --listen 127.0.0.1:15410 --target 127.0.0.1:15443 [--path kernel|managed] [--thread-pool-completions]
if (!args.Contains("--thread-pool-completions"))
{
    // On Linux the gateway runs its own epoll loop and these two settings change nothing. Elsewhere its socket continuations
    // only parse, route and splice: run them on the socket engine's thread instead of handing each wake-up to the thread pool.
    // The runtime reads this once, at the first socket operation, so it is set first.
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT") is null)
{
    // With inline completions the runtime starts one epoll thread per core, and the two sockets of a connection often land on
    // different ones, so every hop of a handshake wakes another thread. One per two cores halves those wake-ups (7.2 -> 4.3
    // voluntary context switches per gateway connection here; benchmarks/README.md). Read at the first socket operation too.
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", Math.Max(1, Environment.ProcessorCount / 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
}

string listen = Option("--listen") ?? "127.0.0.1:15410";
string target = Option("--target") ?? "127.0.0.1:15443";
string trustDomain = Option("--trust-domain") ?? "example.consul";
bool kernel = (Option("--path") ?? "kernel") == "kernel";

var catalog = new InMemoryServiceCatalog([], [
    new MeshGatewayEndpoint("dc2", IPEndPoint.Parse(target), IPEndPoint.Parse(target)),
]);
var options = new MeshGatewayOptions
{
    Datacenter = "dc1",
    TrustDomain = TrustDomain.Parse(trustDomain),
    Splice = new Mesh.Splicing.SpliceOptions { UseKernelPath = kernel },
};
options.ListenEndPoints.Add(IPEndPoint.Parse(listen));
await using var gateway = new MeshGateway(options, catalog);
await gateway.StartAsync();
Console.WriteLine($"mesh gateway on {gateway.LocalEndPoints[0]} routing *.dc2.internal.{trustDomain} to {target} ({(kernel ? "kernel" : "managed")} path); Ctrl+C stops");

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
await stop.Task;
await gateway.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(2)).Token);

string? Option(string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
