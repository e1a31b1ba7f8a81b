using System.Net.Sockets;
using Mesh.ControlPlane;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.Rotation;

namespace Mesh.EndToEnd.Tests;

/// <summary>Leaves that renew every second (dev-mode TTL) while a connection stays open across the renewals.</summary>
public sealed class RotationTests
{
    [Test]
    public async Task Short_lived_leaves_renew_under_an_open_connection_without_breaking_it()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        // NotBefore is a minute in the past (Consul's clock-drift allowance): a 70 s TTL leaves about 10 s of validity, well under
        // the 10 minutes below which the manager renews at once (at most once a second).
        var identity = new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1");
        await using var rotation = new LeafRotationManager(
            new CertificateAuthorityLeafIssuer(mesh.Ca, identity.ToSpiffeId(TwoDatacenterMesh.TrustDomain), ttl: TimeSpan.FromSeconds(70)));
        rotation.Start();
        await rotation.GetLeafAsync(CancellationToken.None);
        await using var app = TestApplication.Start();
        await using var sidecar = await mesh.StartSidecar(identity, rotation, app.EndPoint,
            new Tls.Outbound.MeshUpstream(TwoDatacenterMesh.Counting, "dc2", new System.Net.IPEndPoint(mesh.Address, 0)));
        var renewals = new List<LeafCertificate>();
        using var subscription = Microsoft.Extensions.Primitives.ChangeToken.OnChange(rotation.GetChangeToken, () =>
        {
            lock (renewals)
            {
                renewals.Add(rotation.Current!);
            }
        });

        int RenewalCount()
        {
            lock (renewals)
            {
                return renewals.Count;
            }
        }

        using var client = new Socket(mesh.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(sidecar.UpstreamEndPoints[0]);
        // Renewals fall at a random point of the window left (up to 90 % of 70 s, the leaf backdated by a minute): keep the
        // connection busy until two have happened, for at most about ten seconds.
        for (int i = 0; i < 16 && (i < 6 || RenewalCount() < 2); i++)
        {
            byte[] message = [(byte)i, (byte)(i + 1)];
            await client.SendAsync(message);
            var reply = new byte[2];
            int read = 0;
            while (read < 2)
            {
                int n = await client.ReceiveAsync(reply.AsMemory(read));
                Assert.That(n, Is.GreaterThan(0), "the open connection ended during a renewal");
                read += n;
            }

            Assert.That(reply, Is.EqualTo(message));
            await Task.Delay(600);
        }

        Assert.That(RenewalCount(), Is.GreaterThanOrEqualTo(2), "the leaf was renewed while the connection stayed open");
        byte[] fresh = await LifeOfAPacketTests.RoundTripAsync(sidecar.UpstreamEndPoints[0], [9, 9]);
        Assert.That(fresh, Is.EqualTo(new byte[] { 9, 9 }), "a new connection handshakes with the latest leaf");
    }
}
