// An in-process mesh member, no sidecar. Run the CA role first:
//   dotnet run --project samples/Mesh.Host -- --role ca --config samples/Mesh.InProcess/mesh.json
// then, from samples/Mesh.InProcess:
//   dotnet run -- counting      a Kestrel service that accepts only mesh mTLS, with L7 intentions per request
//   dotnet run -- dashboard     a service whose HttpClient reaches http://counting/ over the mesh (HTTP/2, prior knowledge)
// Options (strict: anything else is an error):
//   --config FILE     the control-plane file (default: mesh.json beside the program)
//   --token TOKEN     the token the CA requires for the service (default: MESH_TOKEN, else "<service>-token" as in mesh.json)
using System.Net;
using Mesh.AspNetCore;
using Mesh.ControlPlane.File;
using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;

const string Usage = "usage: Mesh.InProcess counting|dashboard [--config FILE] [--token TOKEN]";
if (args.Length == 0 || args[0] is not ("counting" or "dashboard"))
{
    Console.Error.WriteLine(args.Length == 0 ? Usage : $"Mesh.InProcess: unknown service '{args[0]}'. {Usage}");
    return 2;
}

string service = args[0];
string file = Path.Combine(AppContext.BaseDirectory, "mesh.json");
string? token = null;
for (int i = 1; i < args.Length; i += 2)
{
    string option = args[i];
    if (option is not ("--config" or "--token"))
    {
        string hint = option.Contains("conf", StringComparison.OrdinalIgnoreCase) || option.Contains("file", StringComparison.OrdinalIgnoreCase)
            ? " (did you mean --config?)"
            : option.Contains("tok", StringComparison.OrdinalIgnoreCase) ? " (did you mean --token?)" : string.Empty;
        Console.Error.WriteLine($"Mesh.InProcess: unknown option '{option}'{hint}. {Usage}");
        return 2;
    }

    if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
    {
        Console.Error.WriteLine($"Mesh.InProcess: {option} needs a value. {Usage}");
        return 2;
    }

    if (option == "--config")
    {
        file = args[i + 1];
    }
    else
    {
        token = args[i + 1];
    }
}

ServiceDefinition self;
try
{
    self = ControlPlaneConfiguration.Load(file).FindService(service)
        ?? throw new ControlPlaneFileException(file, "Services", $"has no service '{service}'");
}
catch (ControlPlaneFileException ex)
{
    Console.Error.WriteLine($"Mesh.InProcess: {ex.Message.ReplaceLineEndings(" ")}");
    return 3;
}

// No args: the options above are the whole command line, not configuration keys.
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
builder.Services.AddMesh(o =>
{
    o.Service = service;
    o.Datacenter = self.Identity.Datacenter;
    o.ControlPlaneFile = file;
    o.Token = token ?? Environment.GetEnvironmentVariable("MESH_TOKEN") ?? $"{service}-token";
    o.Upstreams.Add(new MeshUpstream { Name = "counting" });
});
builder.Services.AddHttpClient("counting").AddMeshHandler(HttpVersion.Version20);
builder.WebHost.ConfigureKestrel(k =>
{
    if (service == "counting")
    {
        k.Listen(self.MeshAddress, l => l.UseMesh());
    }
    else
    {
        k.Listen(self.ApplicationAddress);
    }
});

WebApplication app = builder.Build();
if (service == "counting")
{
    int count = 0;
    app.UseMeshAuthorization();
    app.MapGet("/count", (HttpContext c) => $"{{\"count\":{Interlocked.Increment(ref count)},\"caller\":\"{c.Features.Get<IMeshPeerFeature>()!.Peer}\"}}");
    app.MapGet("/admin", () => "never reached: the intentions allow only GET /count");
}
else
{
    app.MapGet("/", async (IHttpClientFactory http) => await http.CreateClient("counting").GetStringAsync(new Uri("http://counting/count")));
}

app.Run();
return 0;
