// In-process mesh load: HttpClient requests/s over the mesh vs the same app without it (keep-alive, HTTP/1.1 and HTTP/2),
// beside the same app over .NET's own HTTPS (Kestrel UseHttps, HttpClient https://) for what TLS alone costs here,
// and new mesh connections/s (full mTLS handshakes, serial, one client) for comparison with openssl s_time.
// Usage: dotnet run -c Release --project benchmarks/Mesh.InProcessLoad -- [seconds=5] [concurrency=16]
// (seconds: one-second rounds per side, plain and mesh alternating, after one warm-up round each)
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Tls.Authority;
using Mesh.Tls.InProcess;

int seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
int concurrency = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
var trustDomain = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");
using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = trustDomain, Datacenter = "dc1" });
var catalog = new InMemoryServiceCatalog();
var intentions = new InMemoryIntentionSource();
intentions.Set(new IntentionSet([], IntentionAction.Allow));
int meshPort = FreePort(), plainPort = FreePort(), plainH2Port = FreePort(), httpsPort = FreePort();
using X509Certificate2 httpsCertificate = SelfSignedCertificate();
catalog.Replace([new ServiceEndpoint(new ServiceIdentity(new ServiceName("counting"), "dc1"), new IPEndPoint(IPAddress.Loopback, meshPort))], []);

// The server: one Kestrel app, a mesh endpoint, plain endpoints and an HTTPS endpoint serving the same route.
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
AddMesh(builder.Services, "counting");
builder.WebHost.ConfigureKestrel(k =>
{
    k.Listen(IPAddress.Loopback, meshPort, l => l.UseMesh());
    // Cleartext Kestrel serves h2 with prior knowledge only on an HTTP/2-only endpoint.
    k.Listen(IPAddress.Loopback, plainPort, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1);
    k.Listen(IPAddress.Loopback, plainH2Port, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
    k.Listen(IPAddress.Loopback, httpsPort, l => l.UseHttps(httpsCertificate));
});
WebApplication server = builder.Build();
server.MapGet("/count", () => "{\"count\":1}");
await server.StartAsync();

var clientServices = new ServiceCollection();
AddMesh(clientServices, "dashboard");
await using ServiceProvider client = clientServices.BuildServiceProvider();
MeshService dashboard = client.GetRequiredService<MeshService>();
await dashboard.StartAsync();

Console.WriteLine($"# {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Trim()}; {seconds} one-second rounds per side, {concurrency} concurrent requests");
Console.WriteLine("| HTTP | plain req/s (median) | mesh req/s (median) | mesh / plain | paired ratio median [min–max] | .NET HTTPS req/s (median) | HTTPS / plain | pool threads |");
Console.WriteLine("|---|---:|---:|---:|---|---:|---:|---:|");
foreach (Version version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
{
    using var plain = new HttpClient(new SocketsHttpHandler()) { DefaultRequestVersion = version, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    using var mesh = new HttpClient(dashboard.CreateHttpMessageHandler()) { DefaultRequestVersion = version, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    var httpsHandler = new SocketsHttpHandler();
    httpsHandler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        certificate is not null && certificate.GetCertHashString() == httpsCertificate.GetCertHashString();
    using var https = new HttpClient(httpsHandler) { DefaultRequestVersion = version, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    // One-second rounds, plain, mesh and HTTPS in turn, so that load from other processes (this machine is shared) falls on
    // all alike; the medians and the median of each round's mesh / plain ratio are reported.
    Uri plainUri = new($"http://127.0.0.1:{(version == HttpVersion.Version20 ? plainH2Port : plainPort)}/count");
    Uri meshUri = new("http://counting/count");
    Uri httpsUri = new($"https://localhost:{httpsPort}/count");
    await RequestsPerSecond(plain, plainUri, TimeSpan.FromSeconds(1));
    await RequestsPerSecond(mesh, meshUri, TimeSpan.FromSeconds(1));
    await RequestsPerSecond(https, httpsUri, TimeSpan.FromSeconds(1));
    var plainRounds = new double[seconds];
    var meshRounds = new double[seconds];
    var httpsRounds = new double[seconds];
    var ratios = new double[seconds];
    for (int round = 0; round < seconds; round++)
    {
        plainRounds[round] = await RequestsPerSecond(plain, plainUri, TimeSpan.FromSeconds(1));
        meshRounds[round] = await RequestsPerSecond(mesh, meshUri, TimeSpan.FromSeconds(1));
        httpsRounds[round] = await RequestsPerSecond(https, httpsUri, TimeSpan.FromSeconds(1));
        ratios[round] = meshRounds[round] / plainRounds[round];
    }

    double p = Median(plainRounds), m = Median(meshRounds), h = Median(httpsRounds);
    Console.WriteLine($"| {version} | {p:0} | {m:0} | {m / p:0.00} | {Median(ratios):0.00} [{ratios.Min():0.00}–{ratios.Max():0.00}] | {h:0} | {h / p:0.00} | {ThreadPool.ThreadCount} |");
}

// Full mTLS handshakes: serial dials against an in-process MeshListener (accept, handshake, SVID validation, intentions).
await using (MeshService countingNative = CreateMesh("web"))
{
    await countingNative.StartAsync();
    await using MeshListener listener = countingNative.Listen(new IPEndPoint(IPAddress.Loopback, 0));
    catalog.Replace([new ServiceEndpoint(new ServiceIdentity(new ServiceName("web"), "dc1"), listener.LocalEndPoint)], []);
    _ = Task.Run(async () =>
    {
        while (true)
        {
            MeshStream accepted = await listener.AcceptAsync();
            await accepted.DisposeAsync();
        }
    });
    for (int i = 0; i < 50; i++)
    {
        await using MeshStream warm = await dashboard.DialAsync("web");
    }

    TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var watch = Stopwatch.StartNew();
    int handshakes = 0;
    while (watch.Elapsed < TimeSpan.FromSeconds(seconds))
    {
        await using MeshStream stream = await dashboard.DialAsync("web");
        handshakes++;
    }

    double cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / handshakes;
    Console.WriteLine($"mesh handshakes/s (serial, client and server in one process): {handshakes / watch.Elapsed.TotalSeconds:0}; CPU both sides {cpuUs:0} us/handshake");
}

await server.StopAsync();

async Task<double> RequestsPerSecond(HttpClient http, Uri uri, TimeSpan duration)
{
    long count = 0;
    var watch = Stopwatch.StartNew();
    var workers = new Task[concurrency];
    for (int w = 0; w < concurrency; w++)
    {
        workers[w] = Task.Run(async () =>
        {
            while (watch.Elapsed < duration)
            {
                using HttpResponseMessage response = await http.GetAsync(uri);
                await response.Content.ReadAsByteArrayAsync();
                Interlocked.Increment(ref count);
            }
        });
    }

    await Task.WhenAll(workers);
    return count / watch.Elapsed.TotalSeconds;
}

static double Median(double[] values)
{
    double[] sorted = [.. values];
    Array.Sort(sorted);
    int half = sorted.Length / 2;
    return sorted.Length % 2 == 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
}

void AddMesh(IServiceCollection services, string name)
{
    services.AddSingleton<ILeafSource>(new InMemoryLeafSource(ca.IssueLeaf(new ServiceIdentity(new ServiceName(name), "dc1").ToSpiffeId(trustDomain))));
    services.AddSingleton(ca.TrustBundleSource);
    services.AddSingleton<IServiceCatalog>(catalog);
    services.AddSingleton<IIntentionSource>(intentions);
    services.AddHttpClient();
    services.AddMesh(o =>
    {
        o.Service = name;
        o.Datacenter = "dc1";
        o.TrustDomain = trustDomain.Name;
        // Leaf and bundle sources are registered above, so no CA client is created.
        o.CertificateAuthorityAddress = new Uri("http://127.0.0.1:1");
        o.Token = "unused";
    });
}

MeshService CreateMesh(string name) => new(
    new MeshOptions { Service = name, Datacenter = "dc1", TrustDomain = trustDomain.Name, CertificateAuthorityAddress = new Uri("http://127.0.0.1:1"), Token = "unused" },
    new InMemoryLeafSource(ca.IssueLeaf(new ServiceIdentity(new ServiceName(name), "dc1").ToSpiffeId(trustDomain))),
    ca.TrustBundleSource, catalog, intentions);

// The HTTPS reference endpoint's certificate (ECDSA P-256, as the mesh's leaves); the client accepts exactly this one.
static X509Certificate2 SelfSignedCertificate()
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
    using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
    return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
}

static int FreePort()
{
    using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
    probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    return ((IPEndPoint)probe.LocalEndPoint!).Port;
}
