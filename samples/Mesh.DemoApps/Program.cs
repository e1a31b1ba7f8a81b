using System.Net;
using System.Net.Sockets;
using System.Text.Json;

// The two demo applications. Neither knows about the mesh: counting counts, and dashboard calls counting through the plain-TCP
// upstream listener its sidecar opens on localhost.
//
//   Mesh.DemoApps counting  --listen 127.0.2.20:9003 --instance counting-dc2
//   Mesh.DemoApps dashboard --listen 127.0.1.20:9002 --upstream counting=127.0.0.1:9001 [--upstream local=127.0.0.1:9011]
if (args.Length == 0 || args[0] is not ("counting" or "dashboard"))
{
    Console.Error.WriteLine("usage: Mesh.DemoApps counting|dashboard --listen IP:PORT [--instance NAME] [--upstream NAME=IP:PORT ...]");
    return 2;
}

string role = args[0];
string listen = Option(args, "--listen") ?? "127.0.0.1:0";
string instance = Option(args, "--instance") ?? role;
var upstreams = new Dictionary<string, IPEndPoint>(StringComparer.Ordinal);
for (int i = 1; i < args.Length - 1; i++)
{
    if (args[i] == "--upstream" && args[i + 1].Split('=', 2) is [string name, string address])
    {
        upstreams[name] = IPEndPoint.Parse(address);
    }
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://{listen}");
var app = builder.Build();

if (role == "counting")
{
    long count = 0;
    app.MapGet("/", () => Results.Json(new CountReply(Interlocked.Increment(ref count), instance), DemoJson.Default.CountReply));
}
else
{
    // Each upstream call opens a fresh connection (no pooling), so every call crosses the mesh anew and the demo can show it.
    app.MapGet("/call/{name}", async (string name, CancellationToken cancellationToken) =>
    {
        if (!upstreams.TryGetValue(name, out IPEndPoint? upstream))
        {
            return Results.NotFound($"no upstream named '{name}'");
        }

        try
        {
            using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, UseProxy = false };
            using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{upstream}/");
            request.Headers.ConnectionClose = true;
            using HttpResponseMessage response = await client.SendAsync(request, cancellationToken);
            string body = await response.Content.ReadAsStringAsync(cancellationToken);
            CountReply? reply = JsonSerializer.Deserialize(body, DemoJson.Default.CountReply);
            return Results.Json(new DashboardReply(name, upstream.ToString(), reply, null), DemoJson.Default.DashboardReply);
        }
        catch (HttpRequestException ex)
        {
            string error = ex.InnerException is SocketException socket ? $"{socket.SocketErrorCode}: {socket.Message}" : ex.Message;
            if (ex.InnerException is IOException { InnerException: SocketException inner })
            {
                error = $"{inner.SocketErrorCode}: {inner.Message}";
            }

            return Results.Json(new DashboardReply(name, upstream.ToString(), null, error), DemoJson.Default.DashboardReply, statusCode: 502);
        }
    });
}

app.MapGet("/health", () => "ok");
await app.RunAsync();
return 0;

static string? Option(string[] args, string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

internal sealed record CountReply(long Count, string Instance);

internal sealed record DashboardReply(string Upstream, string Via, CountReply? Reply, string? Error);

[System.Text.Json.Serialization.JsonSerializable(typeof(CountReply))]
[System.Text.Json.Serialization.JsonSerializable(typeof(DashboardReply))]
internal sealed partial class DemoJson : System.Text.Json.Serialization.JsonSerializerContext;
