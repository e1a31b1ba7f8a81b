// An in-process mesh member, no sidecar. Run the CA role first (samples/Mesh.Host --role ca --file mesh.json), then:
//   dotnet run -- counting      a Kestrel service that accepts only mesh mTLS, with L7 intentions per request
//   dotnet run -- dashboard     a service whose HttpClient reaches http://counting/ over the mesh (HTTP/2, prior knowledge)
using System.Net;
using Mesh.AspNetCore;
using Mesh.ControlPlane.File;
using Mesh.Tls.InProcess;

string service = args.Length > 0 ? args[0] : "counting";
string file = Path.Combine(AppContext.BaseDirectory, "mesh.json");
ServiceDefinition self = ControlPlaneConfiguration.Load(file).FindService(service)
    ?? throw new InvalidOperationException($"mesh.json has no service '{service}'.");

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddMesh(o =>
{
    o.Service = service;
    o.Datacenter = self.Identity.Datacenter;
    o.ControlPlaneFile = file;
    o.Token = Environment.GetEnvironmentVariable("MESH_TOKEN") ?? $"{service}-token";
    o.Upstreams.Add(new MeshUpstreamOptions { Name = "counting" });
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
