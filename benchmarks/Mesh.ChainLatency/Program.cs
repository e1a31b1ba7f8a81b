using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Mesh.EndToEnd.Tests.Support;

// Latency the mesh adds to a 100-byte request/response on a kept-alive connection: through the four hops of the life of a
// packet (dashboard's sidecar, the dc1 and dc2 gateways, counting's sidecar) against the same echo application dialled directly,
// interleaved in one run. Per-hop timestamps are not possible inside TLS, so a partial chain is measured beside it: dashboard's
// sidecar straight to counting's sidecar in dc1 (the two TLS hops, no gateway). The two sidecars' share is that path minus the
// direct dial, the two gateways' share the four-hop path minus that one.
//
// --compare-batch-scheduling starts a second mesh whose gateways run with the other MeshGatewayOptions.BatchScheduling and
// measures its four-hop path too, interleaved with the others: both policies under the same load.
//
//   dotnet run -c Release --project benchmarks/Mesh.ChainLatency -- [--requests 20000] [--rounds 3] [--warmup-seconds 3] [--compare-batch-scheduling]
int requests = int.Parse(Option("--requests") ?? "20000", CultureInfo.InvariantCulture);
int rounds = int.Parse(Option("--rounds") ?? "3", CultureInfo.InvariantCulture);
double warmupSeconds = double.Parse(Option("--warmup-seconds") ?? "3", CultureInfo.InvariantCulture);

bool batchByDefault = new Mesh.Sni.Gateway.MeshGatewayOptions().BatchScheduling;
bool compareBatch = args.Contains("--compare-batch-scheduling");

await using var mesh = await TwoDatacenterMesh.StartAsync();
await using TwoDatacenterMesh? other = compareBatch
    ? await TwoDatacenterMesh.StartAsync(configureGateways: options => options.BatchScheduling = !batchByDefault)
    : null;
var payload = new byte[100];
Random.Shared.NextBytes(payload);
(string Name, Socket Socket)[] paths =
[
    ("direct", await ConnectAsync(mesh.CountingDc2App.EndPoint)),
    ("two sidecars (dc1, no gateway)", await ConnectAsync(mesh.UpstreamToDc1)),
    ($"four-hop mesh (dc1 → dc2), gateways' SCHED_BATCH {OnOff(batchByDefault)}", await ConnectAsync(mesh.UpstreamToDc2)),
    .. other is null ? [] : new[] { ($"four-hop mesh (dc1 → dc2), gateways' SCHED_BATCH {OnOff(!batchByDefault)}", await ConnectAsync(other.UpstreamToDc2)) },
];

// Warm-up: the first round trips pay the handshakes, the JIT's first tiers and the pools' first rentals; the runtime compiles
// its optimized tier in the background only once no new method has been compiled for a while (tiered compilation's delay),
// so the warm-up runs by time, alternating the paths, not by count.
var warmup = Stopwatch.StartNew();
int warmupRequests = 0;
while (warmup.Elapsed.TotalSeconds < warmupSeconds)
{
    foreach ((_, Socket socket) in paths)
    {
        await MeasureAsync(socket, payload, 500);
        warmupRequests += 500;
    }
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"# {requests} requests of 100 bytes per path and round, {rounds} rounds, {Environment.ProcessorCount} cores; warm-up: {warmupRequests} requests over {warmup.Elapsed.TotalSeconds:F1} s, alternating the paths (handshakes, JIT tiers, pools)"));
Console.WriteLine("| round | path | p50 µs | p99 µs | added p50 µs | added p99 µs | requests/s | context switches per request (voluntary + preempted) | load (1 min) |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
var addedP99 = new List<double>[paths.Length];
for (int path = 0; path < paths.Length; path++)
{
    addedP99[path] = [];
}

for (int round = 1; round <= rounds; round++)
{
    Percentiles? direct = null;
    int path = 0;
    foreach ((string name, Socket socket) in paths)
    {
        (long voluntary, long preempted) = ContextSwitches();
        Percentiles run = Percentiles.Of(await MeasureAsync(socket, payload, requests));
        (long voluntaryAfter, long preemptedAfter) = ContextSwitches();
        string switches = string.Create(CultureInfo.InvariantCulture,
            $"{(voluntaryAfter - voluntary) / (double)requests:F1} + {(preemptedAfter - preempted) / (double)requests:F2}");
        direct ??= run;
        addedP99[path++].Add(run.P99 - direct.P99);
        string added = ReferenceEquals(run, direct)
            ? "– | –"
            : string.Create(CultureInfo.InvariantCulture, $"{run.P50 - direct.P50:F1} | {run.P99 - direct.P99:F1}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {round} | {name} | {run.P50:F1} | {run.P99:F1} | {added} | {run.Rate:F0} | {switches} | {LoadAverage()} |"));
    }
}

// A burst of other work on the host (a build starting) puts milliseconds into whichever path runs then: the median round
// says what the path adds, the worst round what the host did.
Console.WriteLine();
Console.WriteLine("| path | added p99 µs, median of the rounds | best round | worst round |");
Console.WriteLine("|---|---:|---:|---:|");
for (int path = 1; path < paths.Length; path++)
{
    List<double> values = addedP99[path];
    values.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {paths[path].Name} | {values[values.Count / 2]:F1} | {values[0]:F1} | {values[^1]:F1} |"));
}

foreach ((_, Socket socket) in paths)
{
    socket.Dispose();
}

// Every thread of this process (client, sidecars, gateways, echo application): each wake-up is a chance to wait for a CPU,
// which is what the tail pays on a busy host. The direct dial's count is the client's and the application's own.
static (long Voluntary, long Preempted) ContextSwitches()
{
    long voluntary = 0, preempted = 0;
    if (!Directory.Exists("/proc/self/task"))
    {
        return (0, 0);
    }

    foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
    {
        try
        {
            foreach (string line in File.ReadLines(Path.Combine(task, "status")))
            {
                if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                {
                    voluntary += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                {
                    preempted += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // The thread ended meanwhile.
        }
    }

    return (voluntary, preempted);
}

static string OnOff(bool on) => on ? "on" : "off";

static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

static async Task<(double[] Micros, double Seconds)> MeasureAsync(Socket socket, byte[] payload, int count)
{
    var micros = new double[count];
    var response = new byte[payload.Length];
    var total = Stopwatch.StartNew();
    for (int i = 0; i < count; i++)
    {
        long start = Stopwatch.GetTimestamp();
        await socket.SendAsync(payload);
        for (int read = 0; read < response.Length;)
        {
            int n = await socket.ReceiveAsync(response.AsMemory(read));
            if (n == 0)
            {
                throw new IOException("the connection ended");
            }

            read += n;
        }

        micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    return (micros, total.Elapsed.TotalSeconds);
}

static async Task<Socket> ConnectAsync(IPEndPoint endPoint)
{
    var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    await socket.ConnectAsync(endPoint);
    return socket;
}

string? Option(string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

internal sealed record Percentiles(double P50, double P99, double Rate)
{
    public static Percentiles Of((double[] Micros, double Seconds) run)
    {
        Array.Sort(run.Micros);
        return new Percentiles(run.Micros[run.Micros.Length / 2], run.Micros[(int)(run.Micros.Length * 0.99)], run.Micros.Length / run.Seconds);
    }
}
