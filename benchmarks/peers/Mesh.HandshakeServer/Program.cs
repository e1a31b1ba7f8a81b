using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Tls.Authority;
using Mesh.Tls.InProcess;

// A mesh mTLS server for benchmarks/peers/run.sh handshake: what a Mesh service does for each caller (TLS 1.3 handshake,
// SVID validation of the client certificate, intentions), beside `openssl s_server -Verify 1` with the same certificates and
// the same client (`openssl s_time`).
//
//   Mesh.HandshakeServer --listen 127.0.0.1:17101 --certs DIR
//
// Before it listens it mints a CA and writes into DIR: root.pem, server.pem and server.key (the SPIFFE leaf of "web", which
// openssl s_server serves too) and client.pem and client.key (the leaf of "dashboard", which s_time presents).
string listen = Option("--listen") ?? "127.0.0.1:17101";
string certs = Option("--certs") ?? throw new ArgumentException("--certs DIR is required: the certificates are written there");

var trustDomain = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");
using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = trustDomain, Datacenter = "dc1" });
LeafCertificate server = ca.IssueLeaf(Spiffe("web"), ["localhost"], [IPAddress.Loopback]);
LeafCertificate client = ca.IssueLeaf(Spiffe("dashboard"));
Directory.CreateDirectory(certs);
File.WriteAllText(Path.Combine(certs, "root.pem"), ca.ActiveRoot.ToPem());
Write("server", server);
Write("client", client);

var intentions = new InMemoryIntentionSource();
intentions.Set(new IntentionSet([], IntentionAction.Allow));
await using var mesh = new MeshService(
    new MeshOptions { Service = "web", Datacenter = "dc1", TrustDomain = trustDomain.Name, CertificateAuthorityAddress = new Uri("http://127.0.0.1:1"), Token = "unused" },
    new InMemoryLeafSource(server),
    ca.TrustBundleSource,
    new InMemoryServiceCatalog(),
    intentions);
await mesh.StartAsync();
await using MeshListener listener = mesh.Listen(IPEndPoint.Parse(listen));
Console.WriteLine($"mesh mTLS server on {listener.LocalEndPoint}, certificates in {certs}");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
// The same answer for every caller (41 bytes: run.sh checks that s_time read one per handshake it counted).
byte[] answer = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n"u8.ToArray();

// How many callers were answered, written each second it changes, to compare with the client's count.
long accepted = 0;
_ = Task.Run(async () =>
{
    // With the managed bytes allocated per caller since the last line: fewer allocations, less collection work per handshake.
    long written = 0;
    long allocated = GC.GetTotalAllocatedBytes();
    while (!stop.IsCancellationRequested)
    {
        await Task.Delay(1000);
        long now = Interlocked.Read(ref accepted);
        if (now != written)
        {
            long bytes = GC.GetTotalAllocatedBytes();
            Console.WriteLine($"accepted {now} callers, {(bytes - allocated) / (now - written)} bytes allocated per caller");
            written = now;
            allocated = bytes;
        }
    }
});
try
{
    while (true)
    {
        // The handshake and the authorization are done when a stream is accepted.
        MeshStream stream = await listener.AcceptAsync(stop.Token);
        _ = AnswerAsync(stream);
    }
}
catch (OperationCanceledException)
{
}

// s_time -www sends one HTTP request and reads the answer, so that each handshake it counts was completed on the server too
// (without it s_time closes as soon as its side is done, often before the server has read its Finished message).
async Task AnswerAsync(MeshStream stream)
{
    await using (stream)
    {
        try
        {
            byte[] request = new byte[512];
            int read = 0;
            while (read < request.Length && request.AsSpan(0, read).IndexOf("\r\n\r\n"u8) < 0)
            {
                int n = await stream.ReadAsync(request.AsMemory(read), stop.Token);
                if (n == 0)
                {
                    return;
                }

                read += n;
            }

            await stream.WriteAsync(answer, stop.Token);
            Interlocked.Increment(ref accepted);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
        }
    }
}

SpiffeId Spiffe(string service) => new ServiceIdentity(new ServiceName(service), "dc1").ToSpiffeId(trustDomain);

void Write(string name, LeafCertificate leaf)
{
    using ECDsa key = leaf.Certificate.GetECDsaPrivateKey()!;
    File.WriteAllText(Path.Combine(certs, $"{name}.key"), key.ExportPkcs8PrivateKeyPem());
    File.WriteAllText(Path.Combine(certs, $"{name}.pem"), string.Concat([leaf.Certificate.ExportCertificatePem(), "\n", .. leaf.Intermediates.Select(c => c.ExportCertificatePem() + "\n")]));
}

string? Option(string name)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
