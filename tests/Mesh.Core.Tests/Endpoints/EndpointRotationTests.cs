using System.Net;
using Mesh.Endpoints;

namespace Mesh.Core.Tests.Endpoints;

/// <summary>The rotation an <see cref="EndpointOutlierDetector"/> keeps over a destination's endpoints.</summary>
public sealed class EndpointRotationTests
{
    private static readonly IPEndPoint Dead = new(IPAddress.Loopback, 20011);
    private static readonly IPEndPoint Alive1 = new(IPAddress.Loopback, 20012);
    private static readonly IPEndPoint Alive2 = new(IPAddress.Loopback, 20013);

    [Test]
    public void Connections_rotate_over_the_endpoints()
    {
        var rotation = new EndpointOutlierDetector("test");
        int[] starts = [.. Enumerable.Range(0, 7).Select(_ => rotation.NextStart(3))];
        Assert.That(starts, Is.EqualTo(new[] { 0, 1, 2, 0, 1, 2, 0 }));
    }

    [Test]
    public async Task A_refusing_endpoint_is_skipped_for_the_next_one()
    {
        var rotation = new EndpointOutlierDetector("test");
        IPEndPoint[] endpoints = [Dead, Alive1, Alive2];
        var tried = new List<IPEndPoint>();

        string? chosen = await rotation.TryEachAsync<IPEndPoint, string>(endpoints, (e, _) =>
        {
            tried.Add(e);
            return ValueTask.FromResult(e.Equals(Dead) ? null : e.ToString());
        }, CancellationToken.None);

        Assert.That(chosen, Is.EqualTo(Alive1.ToString()));
        Assert.That(tried, Is.EqualTo(new[] { Dead, Alive1 }));
    }

    [Test]
    public async Task Null_when_every_endpoint_refuses_or_there_are_none()
    {
        var rotation = new EndpointOutlierDetector("test");
        Assert.That(await rotation.TryEachAsync<IPEndPoint, string>([Alive1, Alive2], (_, _) => ValueTask.FromResult<string?>(null), CancellationToken.None), Is.Null);
        Assert.That(await rotation.TryEachAsync<IPEndPoint, string>([], (_, _) => ValueTask.FromResult<string?>("x"), CancellationToken.None), Is.Null);
    }
}
