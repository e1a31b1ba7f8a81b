using Mesh.Endpoints;

namespace Mesh.Core.Tests.Endpoints;

public sealed class EndpointRotationTests
{
    [Test]
    public void Connections_rotate_over_the_endpoints()
    {
        var rotation = new EndpointRotation();
        int[] starts = [.. Enumerable.Range(0, 7).Select(_ => rotation.NextStart(3))];
        Assert.That(starts, Is.EqualTo(new[] { 0, 1, 2, 0, 1, 2, 0 }));
    }

    [Test]
    public async Task A_refusing_endpoint_is_skipped_for_the_next_one()
    {
        var rotation = new EndpointRotation();
        string[] endpoints = ["dead", "alive-1", "alive-2"];
        var tried = new List<string>();

        string? chosen = await rotation.TryEachAsync<string, string>(endpoints, (e, _) =>
        {
            tried.Add(e);
            return ValueTask.FromResult(e == "dead" ? null : e);
        }, CancellationToken.None);

        Assert.That(chosen, Is.EqualTo("alive-1"));
        Assert.That(tried, Is.EqualTo(new[] { "dead", "alive-1" }));
    }

    [Test]
    public async Task Null_when_every_endpoint_refuses_or_there_are_none()
    {
        var rotation = new EndpointRotation();
        Assert.That(await rotation.TryEachAsync<string, string>(["a", "b"], (_, _) => ValueTask.FromResult<string?>(null), CancellationToken.None), Is.Null);
        Assert.That(await rotation.TryEachAsync<string, string>([], (_, _) => ValueTask.FromResult<string?>("x"), CancellationToken.None), Is.Null);
    }
}
