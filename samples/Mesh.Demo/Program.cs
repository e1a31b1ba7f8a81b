using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Mesh.Demo;
using Mesh.Diagnostics;

// The life of a packet: dashboard (dc1) calls counting (dc2) through its sidecar, the dc1 and dc2 mesh gateways and counting's
// sidecar; then counting in dc1, sidecar to sidecar; then the intention is switched to deny and the call is reset.
// Every role is a separate process on loopback: dc1 on 127.0.1.x, dc2 on 127.0.2.x.
var total = Stopwatch.StartNew();
string work = Path.Combine(Path.GetTempPath(), $"mesh-demo-{Environment.ProcessId}");
Directory.CreateDirectory(work);
string topology = Path.Combine(work, "topology.json");
File.Copy(Path.Combine(AppContext.BaseDirectory, "topology.json"), topology, overwrite: true);

var processes = new List<DemoProcess>();
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
int exitCode = 0;
try
{
    Say("Starting the mesh: CA, two mesh gateways, three sidecars, three apps");
    // The CA keeps its state under the demo's temporary folder, never in the repository.
    DemoProcess ca = Host("ca", "--role", "ca", "--config", topology, "--data-dir", Path.Combine(work, "ca"));
    await Ready(ca, "http://127.0.1.2:8501/health/ready");
    DemoProcess gatewayDc1 = Host("gateway-dc1", "--role", "gateway", "--config", topology, "--datacenter", "dc1", "--health", "127.0.1.10:8080");
    DemoProcess gatewayDc2 = Host("gateway-dc2", "--role", "gateway", "--config", topology, "--datacenter", "dc2", "--health", "127.0.2.10:8080");
    DemoProcess countingDc2 = App("counting-dc2", "counting", "--listen", "127.0.2.20:9003", "--instance", "counting-dc2");
    DemoProcess countingDc1 = App("counting-dc1", "counting", "--listen", "127.0.1.30:9003", "--instance", "counting-dc1");
    DemoProcess sidecarCountingDc2 = Host("sidecar-counting-dc2", "--role", "sidecar", "--config", topology, "--service", "counting-dc2", "--token", "counting-token", "--health", "127.0.2.21:19000");
    DemoProcess sidecarCountingDc1 = Host("sidecar-counting-dc1", "--role", "sidecar", "--config", topology, "--service", "counting-dc1", "--token", "counting-token", "--health", "127.0.1.31:19000");
    DemoProcess sidecarDashboard = Host("sidecar-dashboard", "--role", "sidecar", "--config", topology, "--service", "dashboard-dc1", "--token", "dashboard-token", "--health", "127.0.1.21:19000");
    DemoProcess dashboard = App("dashboard", "dashboard", "--listen", "127.0.1.20:9002", "--upstream", "counting-dc2=127.0.0.1:9001", "--upstream", "counting-dc1=127.0.0.1:9011");
    await Task.WhenAll(
        Ready(gatewayDc1, "http://127.0.1.10:8080/health/ready"), Ready(gatewayDc2, "http://127.0.2.10:8080/health/ready"),
        Ready(sidecarCountingDc2, "http://127.0.2.21:19000/health/ready"), Ready(sidecarCountingDc1, "http://127.0.1.31:19000/health/ready"),
        Ready(sidecarDashboard, "http://127.0.1.21:19000/health/ready"), Ready(countingDc2, "http://127.0.2.20:9003/health"),
        Ready(countingDc1, "http://127.0.1.30:9003/health"), Ready(dashboard, "http://127.0.1.20:9002/health"));
    Say($"All {processes.Count} processes are ready ({total.Elapsed.TotalSeconds:F1} s)");
    foreach (DemoProcess process in processes)
    {
        Console.WriteLine($"   {process.Name,-22} pid {process.Id}");
    }

    string meters = string.Join(',', MeshMetrics.SpliceMeter, MeshMetrics.GatewayMeter, MeshMetrics.TlsMeter, MeshMetrics.AuthorizationMeter);
    Console.WriteLine($"   Watch the metrics of any of them while the demo runs (dotnet tool install -g dotnet-counters):");
    Console.WriteLine($"     dotnet-counters monitor -p {gatewayDc1.Id} --counters {meters}");

    Say("1. dashboard (dc1) -> counting (dc2), across datacenters");
    DateTimeOffset mark = DateTimeOffset.UtcNow;
    JsonNode? reply = await Call("counting-dc2");
    await Task.Delay(300);
    PrintCrossDatacenterSessions(mark);
    exitCode |= reply?["Reply"] is null ? 1 : 0;

    Say("2. dashboard (dc1) -> counting (dc1), sidecar to sidecar in one datacenter");
    mark = DateTimeOffset.UtcNow;
    reply = await Call("counting-dc1");
    await Task.Delay(300);
    PrintSameDatacenterSessions(mark);
    exitCode |= reply?["Reply"] is null ? 1 : 0;

    Say("3. The intention dashboard -> counting is switched to deny");
    string text = await File.ReadAllTextAsync(topology);
    await File.WriteAllTextAsync(topology, text.Replace("\"Action\": \"allow\"", "\"Action\": \"deny\"", StringComparison.Ordinal));
    await WaitForReload(DateTimeOffset.UtcNow);
    mark = DateTimeOffset.UtcNow;
    reply = await Call("counting-dc2");
    await Task.Delay(300);
    LogLine? denied = Latest("sidecar-counting-dc2", MeshLogEvents.AuthorizationDenied, mark);
    Console.WriteLine(denied is null
        ? "   (no deny line was logged)"
        : $"   counting's sidecar logged: [{denied.Level}] {denied.Message}");
    exitCode |= reply?["Error"] is null || denied is null ? 1 : 0;
}
catch (DemoStartException ex)
{
    // A child that could not start said why in its own last lines: an address in use, a refused token...
    Console.Error.WriteLine($"The demo could not start: {ex.Message}");
    exitCode = 1;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"The demo failed: {ex.Message}");
    foreach (DemoProcess process in processes)
    {
        foreach (LogLine line in process.Lines.Where(l => l.Level is "Error" or "Critical" || l.EventId == 0).TakeLast(5))
        {
            Console.Error.WriteLine($"   {process.Name}: {line.Message}");
        }
    }

    exitCode = 1;
}
finally
{
    Say("Stopping every process (SIGTERM, drain)");
    await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask()));
    Directory.Delete(work, recursive: true);
    Say($"Done in {total.Elapsed.TotalSeconds:F1} s");
}

return exitCode;

DemoProcess Host(string name, params string[] arguments) => Started(DemoProcess.Start(name, "Mesh.Host.dll", arguments));

DemoProcess App(string name, params string[] arguments) => Started(DemoProcess.Start(name, "Mesh.DemoApps.dll", arguments));

DemoProcess Started(DemoProcess process)
{
    processes.Add(process);
    return process;
}

// Ready only when the answer comes from the child itself (its health answers carry its process ID): any other program that
// answers 200 on the same address is not the demo's process, and a child that exits is reported with its own last lines.
async Task Ready(DemoProcess process, string url)
{
    var deadline = Stopwatch.StartNew();
    string? stranger = null;
    while (true)
    {
        if (processes.FirstOrDefault(p => p.HasExited) is { } exited)
        {
            throw new DemoStartException(exited.DescribeEarlyExit(lines: 5));
        }

        try
        {
            using HttpResponseMessage response = await http.GetAsync(url);
            string? answeredBy = response.Headers.TryGetValues("Mesh-Process-Id", out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
            if (answeredBy != process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                stranger = answeredBy is null ? "a process that is not part of the demo" : $"process {answeredBy}, not one the demo started";
            }
            else if (response.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        if (deadline.Elapsed > TimeSpan.FromSeconds(60))
        {
            throw new DemoStartException(stranger is null
                ? $"{process.Name} (pid {process.Id}) was not ready at {url} after 60 s"
                : $"{url} is answered by {stranger}: the address is taken, so {process.Name} (pid {process.Id}) cannot serve it");
        }

        await Task.Delay(100);
    }
}

async Task<JsonNode?> Call(string upstream)
{
    using HttpResponseMessage response = await http.GetAsync($"http://127.0.1.20:9002/call/{upstream}");
    JsonNode? body = await response.Content.ReadFromJsonAsync<JsonNode>();
    Console.WriteLine($"   dashboard got HTTP {(int)response.StatusCode}: {body?.ToJsonString()}");
    return body;
}

async Task WaitForReload(DateTimeOffset since)
{
    var deadline = Stopwatch.StartNew();
    while (Latest("sidecar-counting-dc2", MeshLogEvents.IntentionsLoaded, since) is null && deadline.Elapsed < TimeSpan.FromSeconds(10))
    {
        await Task.Delay(100);
    }

    Console.WriteLine("   counting's sidecar reloaded its intentions (no restart, open connections untouched)");
}

LogLine? Latest(string process, int eventId, DateTimeOffset since) =>
    processes.Single(p => p.Name == process).Lines.LastOrDefault(l => l.EventId == eventId && l.Seen >= since);

void PrintCrossDatacenterSessions(DateTimeOffset mark)
{
    LogLine? upstream = Latest("sidecar-dashboard", MeshLogEvents.UpstreamConnected, mark);
    LogLine? gw1 = Latest("gateway-dc1", MeshLogEvents.GatewayRouted, mark);
    LogLine? gw2 = Latest("gateway-dc2", MeshLogEvents.GatewayRouted, mark);
    LogLine? inbound = Latest("sidecar-counting-dc2", MeshLogEvents.AuthorizationAllowed, mark);
    LogLine? app = Latest("sidecar-counting-dc2", MeshLogEvents.LocalAppConnected, mark);
    Console.WriteLine("   The five TCP sessions the request crossed (one end-to-end mTLS channel from session 2 to 4):");
    Session(1, "dashboard app    -> dashboard sidecar (upstream listener)", upstream, "ClientRemote", "ClientLocal");
    Session(2, "dashboard sidecar -> dc1 mesh gateway (mTLS starts)", upstream, "Local", "Remote");
    Session(3, "dc1 mesh gateway  -> dc2 mesh gateway (spliced, SNI " + gw1?.Get("Sni") + ")", gw1, "OutboundLocal", "OutboundRemote");
    Session(4, "dc2 mesh gateway  -> counting sidecar (spliced)", gw2, "OutboundLocal", "OutboundRemote");
    Session(5, "counting sidecar  -> counting app (mTLS ended)", app, "Local", "Remote");
    Console.WriteLine($"   Decision at counting's sidecar: {inbound?.Get("Decision") ?? "?"} (peer {inbound?.Get("Peer") ?? "?"})");
}

void PrintSameDatacenterSessions(DateTimeOffset mark)
{
    LogLine? upstream = Latest("sidecar-dashboard", MeshLogEvents.UpstreamConnected, mark);
    LogLine? inbound = Latest("sidecar-counting-dc1", MeshLogEvents.AuthorizationAllowed, mark);
    LogLine? app = Latest("sidecar-counting-dc1", MeshLogEvents.LocalAppConnected, mark);
    Session(1, "dashboard app    -> dashboard sidecar (upstream listener)", upstream, "ClientRemote", "ClientLocal");
    Session(2, "dashboard sidecar -> counting sidecar (mTLS)", upstream, "Local", "Remote");
    Session(3, "counting sidecar  -> counting app", app, "Local", "Remote");
    Console.WriteLine($"   Decision at counting's sidecar: {inbound?.Get("Decision") ?? "?"}");
}

static void Session(int number, string what, LogLine? line, string from, string to) =>
    Console.WriteLine($"     {number}. {what,-62} {line?.Get(from) ?? "?",-18} -> {line?.Get(to) ?? "?"}");

static void Say(string text) => Console.WriteLine($"\n== {text}");
