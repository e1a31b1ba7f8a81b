using System.Diagnostics.Metrics;
using System.Net;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Endpoints;
using Mesh.Sni.Gateway;
using Mesh.Sni.Tests.Support;

namespace Mesh.Sni.Tests.Gateway;

// Envoy-style outlier ejection of endpoints that refuse connections, on both engines.
public sealed partial class MeshGatewayTests
{
    private static string CountingSni => "counting.default.dc2.internal." + Td.Name;

    [Test]
    public async Task An_endpoint_that_refuses_is_ejected_after_three_failures_and_no_longer_tried()
    {
        await using var backend = await TlsEchoServer.StartAsync();
        IPEndPoint dead = UnusedLoopbackEndPoint();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", dead), Endpoint(Counting, "dc2", backend.EndPoint)], []);
        var logs = new EventCountingLoggerFactory();
        using var ejections = new EjectionCounter();
        await using MeshGateway gateway = await StartGateway(catalog, logs, new OutlierDetectionOptions { ConsecutiveFailures = 3, BaseEjectionTime = TimeSpan.FromHours(1), MaxEjectionTime = TimeSpan.FromHours(2) });

        for (int i = 0; i < 12; i++)
        {
            Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], CountingSni, "r" + i), Is.EqualTo("echo:r" + i));
        }

        Assert.Multiple(() =>
        {
            // Rotating over two endpoints, every second connection met the dead one until its third failure ejected it.
            Assert.That(logs.Count(MeshLogEvents.GatewayEndpointFailed), Is.EqualTo(3), "failed connects (and warnings) stop once the endpoint is ejected");
            Assert.That(logs.Count(MeshLogEvents.EndpointEjected), Is.EqualTo(1));
            Assert.That(ejections.Total, Is.EqualTo(1), MeshMetrics.EndpointEjections);
            Assert.That(backend.Accepted, Is.EqualTo(12));
        });
    }

    [Test]
    public async Task The_last_endpoint_is_still_tried_when_every_endpoint_is_ejected()
    {
        IPEndPoint only = UnusedLoopbackEndPoint();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", only)], []);
        var logs = new EventCountingLoggerFactory();
        await using MeshGateway gateway = await StartGateway(catalog, logs, new OutlierDetectionOptions { ConsecutiveFailures = 2, BaseEjectionTime = TimeSpan.FromHours(1), MaxEjectionTime = TimeSpan.FromHours(2) });

        for (int i = 0; i < 3; i++)
        {
            Assert.That(async () => await TlsCallAsync(gateway.LocalEndPoints[0], CountingSni, "down"), Throws.InstanceOf<IOException>().Or.InstanceOf<System.Security.Authentication.AuthenticationException>());
        }

        Assert.That(logs.Count(MeshLogEvents.EndpointEjected), Is.EqualTo(1));

        // Ejected for an hour, but the only endpoint: it comes back, and the next connection reaches it.
        await using var backend = await TlsEchoServer.StartAsync(port: only.Port);
        Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], CountingSni, "up"), Is.EqualTo("echo:up"));
        Assert.That(backend.Accepted, Is.EqualTo(1));
    }

    [Test]
    public async Task An_ejected_endpoint_returns_after_its_ejection_period()
    {
        await using var live = await TlsEchoServer.StartAsync();
        IPEndPoint dead = UnusedLoopbackEndPoint();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", dead), Endpoint(Counting, "dc2", live.EndPoint)], []);
        var logs = new EventCountingLoggerFactory();
        await using MeshGateway gateway = await StartGateway(catalog, logs, new OutlierDetectionOptions { ConsecutiveFailures = 1, BaseEjectionTime = TimeSpan.FromMilliseconds(300), MaxEjectionTime = TimeSpan.FromSeconds(1) });

        for (int i = 0; i < 2; i++)
        {
            Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], CountingSni, "a" + i), Is.EqualTo("echo:a" + i));
        }

        Assert.That(logs.Count(MeshLogEvents.EndpointEjected), Is.EqualTo(1));

        await using var revived = await TlsEchoServer.StartAsync(port: dead.Port);
        for (int i = 0; i < 100 && revived.Accepted == 0; i++)
        {
            await Task.Delay(50);
            Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], CountingSni, "b" + i), Is.EqualTo("echo:b" + i));
        }

        Assert.That(revived.Accepted, Is.Positive, "the endpoint is back in rotation once its period is over");
        Assert.That(logs.Count(MeshLogEvents.EndpointReturned), Is.EqualTo(1));
    }

    private async Task<MeshGateway> StartGateway(IServiceCatalog catalog, EventCountingLoggerFactory logs, OutlierDetectionOptions outliers)
    {
        MeshGatewayOptions options = Options("dc2", IPAddress.Loopback);
        options.OutlierDetection = outliers;
        var gateway = new MeshGateway(options, catalog, logs);
        await gateway.StartAsync();
        return gateway;
    }

    /// <summary>Sums <see cref="MeshMetrics.EndpointEjections"/> counted by gateways while it lives.</summary>
    private sealed class EjectionCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public EjectionCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MeshMetrics.EndpointsMeter && instrument.Name == MeshMetrics.EndpointEjections)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == MeshMetrics.ComponentTag && (string?)tag.Value == "gateway")
                    {
                        Interlocked.Add(ref _total, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }
}
