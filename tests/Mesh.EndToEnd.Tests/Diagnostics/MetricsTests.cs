using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.InProcess;
using Mesh.Tls.Validation;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.EndToEnd.Tests.Diagnostics;

/// <summary>What an operator's metrics pipeline sees: one casing for tag values, meters from the host's factory.</summary>
[NonParallelizable]
public sealed partial class MetricsTests
{
    [Test]
    public async Task Every_tag_value_of_every_mesh_instrument_is_snake_case()
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name.StartsWith("Mesh.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Collect(instrument, tags, values));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Collect(instrument, tags, values));
        listener.Start();
        await using var mesh = await TwoDatacenterMesh.StartAsync();

        // Allowed across both gateways, then denied; a gateway refusing bytes that are not TLS; a peer without a certificate;
        // a CSR the CA refuses.
        await LifeOfAPacketTests.RoundTripAsync(mesh.UpstreamToDc2, [1, 2, 3]);
        mesh.SetIntentions("[]");
        Assert.That(async () => await LifeOfAPacketTests.RoundTripAsync(mesh.UpstreamToDc1, [1]), Throws.InstanceOf<SocketException>());
        await SendPlainTextAsync(mesh.GatewayDc1.LocalEndPoints[0]);
        Assert.That(new SvidValidator(mesh.Ca.TrustBundleSource).Validate(null).Status, Is.EqualTo(SvidValidationStatus.NoCertificate));
        Assert.That(() => mesh.Ca.SignCsr(new byte[] { 0x30, 0x00 }), Throws.InstanceOf<CertificateSigningException>());
        await Task.Delay(200); // The last connections' splice and gateway counters are recorded as they close.

        lock (values)
        {
            Assert.That(values, Is.Not.Empty);
            Assert.That(values, Has.Some.StartsWith("mesh.tls.peer_validations=").And.Some.StartsWith("mesh.gateway.connections="), "the scenario reached each meter");
            Assert.That(values.Where(v => !SnakeCaseValue().IsMatch(v[(v.IndexOf('=', StringComparison.Ordinal) + 1)..])), Is.Empty);
        }
    }

    [Test]
    public async Task Under_AddMesh_the_tls_and_authorization_instruments_come_from_the_hosts_meter_factory()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddSingleton<ILeafSource>(mesh.DashboardLeaf);
        services.AddSingleton(mesh.Ca.TrustBundleSource);
        services.AddSingleton<IServiceCatalog>(mesh.Catalog);
        services.AddSingleton<IIntentionSource>(mesh.Intentions);
        services.AddMesh(options =>
        {
            options.Service = "dashboard";
            options.Datacenter = "dc1";
            options.TrustDomain = TwoDatacenterMesh.TrustDomain.Name;
            options.CertificateAuthorityAddress = new Uri("http://127.0.0.1:1");
            options.Token = "unused: the leaf source is given";
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        IMeterFactory factory = provider.GetRequiredService<IMeterFactory>();
        var scopes = new Dictionary<string, object?>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == factory)
                {
                    scopes[instrument.Name] = instrument.Meter.Name;
                }
            },
        };
        listener.Start();

        provider.GetRequiredService<MeshService>();

        Assert.That(scopes, Does.ContainKey(MeshMetrics.TlsHandshakes).WithValue(MeshMetrics.TlsMeter)
            .And.ContainKey(MeshMetrics.PeerValidations).WithValue(MeshMetrics.TlsMeter)
            .And.ContainKey(MeshMetrics.AuthorizationDecisions).WithValue(MeshMetrics.AuthorizationMeter));
    }

    private static void Collect(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags, HashSet<string> values)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Value is string value)
            {
                lock (values)
                {
                    values.Add(instrument.Name + "=" + value);
                }
            }
        }
    }

    private static async Task SendPlainTextAsync(System.Net.IPEndPoint gateway)
    {
        using var client = new Socket(gateway.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(gateway);
        await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), SocketFlags.None);
        var buffer = new byte[16];
        try
        {
            while (await client.ReceiveAsync(buffer, SocketFlags.None) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }
    }

    [GeneratedRegex("^[a-z0-9]+(_[a-z0-9]+)*$")]
    private static partial Regex SnakeCaseValue();
}
