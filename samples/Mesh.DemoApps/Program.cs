using System.Net;
using System.Net.Sockets;
using System.Text.Json;

// The two demo applications. Neither knows about the mesh: counting counts, and dashboard calls counting through the plain-TCP
// upstream listener its sidecar opens on localhost.
//
//   Mesh.DemoApps counting  --listen 127.0.2.20:9003 --instance counting-dc2
//   Mesh.DemoApps dashboard --listen 127.0.1.20:9002 --upstream counting=127.0.0.1:9001 [--upstream local=127.0.0.1:9011]
const string Usage = "usage: Mesh.DemoApps counting|dashboard --listen IP:PORT [--instance NAME] [--upstream NAME=IP:PORT ...]";
if (args.Length == 0 || args[0] is not ("counting" or "dashboard"))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

// Strict options: a typo is an error, not a default silently taken.
string role = args[0];
string listen = "127.0.0.1:0";
string instance = role;
var upstreams = new Dictionary<string, IPEndPoint>(StringComparer.Ordinal);
for (int i = 1; i < args.Length; i += 2)
{
    string option = args[i];
    string? value = i + 1 < args.Length ? args[i + 1] : null;
    if (option is not ("--listen" or "--instance" or "--upstream"))
    {
        Console.Error.WriteLine($"Mesh.DemoApps: unknown option '{option}'. {Usage}");
        return 2;
    }

    if (value is null || value.StartsWith("--", StringComparison.Ordinal))
    {
        Console.Error.WriteLine($"Mesh.DemoApps: {option} needs a value. {Usage}");
        return 2;
    }

    switch (option)
    {
        case "--listen" when IPEndPoint.TryParse(value, out _):
            listen = value;
            break;
        case "--instance":
            instance = value;
            break;
        case "--upstream" when value.Split('=', 2) is [string name, string address] && IPEndPoint.TryParse(address, out IPEndPoint? upstream):
            upstreams[name] = upstream;
            break;
        default:
            Console.Error.WriteLine($"Mesh.DemoApps: {option} '{value}' is malformed. {Usage}");
            return 2;
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

// The process ID tells the demo that the answer comes from the child it started, not from another program on the address.
string processId = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
app.MapGet("/health", (HttpContext context) =>
{
    context.Response.Headers["Mesh-Process-Id"] = processId;
    return "ok";
});

try
{
    await app.StartAsync();
}
catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } or Microsoft.AspNetCore.Connections.AddressInUseException)
{
    Console.Error.WriteLine($"Mesh.DemoApps: {role} cannot listen on {listen}: the address is already in use.");
    return 4;
}

await app.WaitForShutdownAsync();
return 0;

internal sealed record CountReply(long Count, string Instance);

internal sealed record DashboardReply(string Upstream, string Via, CountReply? Reply, string? Error);

[System.Text.Json.Serialization.JsonSerializable(typeof(CountReply))]
[System.Text.Json.Serialization.JsonSerializable(typeof(DashboardReply))]
internal sealed partial class DemoJson : System.Text.Json.Serialization.JsonSerializerContext;
