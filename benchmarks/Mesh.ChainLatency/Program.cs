using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Mesh.EndToEnd.Tests.Support;

// Latency the mesh adds to a 100-byte request/response on a kept-alive connection: through the four hops of the life of a
// packet (dashboard's sidecar, the dc1 and dc2 gateways, counting's sidecar) against the same echo application dialled directly,
// interleaved in one run.
//
//   dotnet run -c Release --project benchmarks/Mesh.ChainLatency -- [--requests 20000] [--rounds 3]
int requests = int.Parse(Option("--requests") ?? "20000", CultureInfo.InvariantCulture);
int rounds = int.Parse(Option("--rounds") ?? "3", CultureInfo.InvariantCulture);

await using var mesh = await TwoDatacenterMesh.StartAsync();
using Socket direct = await ConnectAsync(mesh.CountingDc2App.EndPoint);
using Socket chain = await ConnectAsync(mesh.UpstreamToDc2);
var payload = new byte[100];
Random.Shared.NextBytes(payload);

// Warm-up: JIT, TLS session, pooled buffers.
await MeasureAsync(direct, payload, 2000);
await MeasureAsync(chain, payload, 2000);

Console.WriteLine($"# {requests} requests of 100 bytes per round, {rounds} rounds, {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine("| round | path | p50 µs | p99 µs | requests/s | MB/s each way |");
Console.WriteLine("|---|---|---:|---:|---:|---:|");
for (int round = 1; round <= rounds; round++)
{
    Report(round, "direct", await MeasureAsync(direct, payload, requests));
    Report(round, "four-hop mesh", await MeasureAsync(chain, payload, requests));
}

static void Report(int round, string path, (double[] Micros, double Seconds) run)
{
    Array.Sort(run.Micros);
    double p50 = run.Micros[run.Micros.Length / 2];
    double p99 = run.Micros[(int)(run.Micros.Length * 0.99)];
    double rate = run.Micros.Length / run.Seconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {round} | {path} | {p50:F1} | {p99:F1} | {rate:F0} | {rate * 100 / 1e6:F2} |"));
}

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
