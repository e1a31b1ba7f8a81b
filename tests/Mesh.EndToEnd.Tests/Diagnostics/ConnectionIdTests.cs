using System.Globalization;
using System.Security.Cryptography;
using Mesh.Diagnostics;
using Mesh.EndToEnd.Tests.Support;

namespace Mesh.EndToEnd.Tests.Diagnostics;

/// <summary>
/// Connection IDs are process-wide: a sidecar and the gateways in one process number their connections from one sequence, so
/// an ID found in a log line names exactly one connection, whichever component wrote it.
/// </summary>
public sealed class ConnectionIdTests
{
    [Test]
    public async Task A_sidecar_and_gateways_in_one_process_number_one_call_from_one_sequence()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();

        byte[] payload = RandomNumberGenerator.GetBytes(1024);
        byte[] echoed = await LifeOfAPacketTests.RoundTripAsync(mesh.UpstreamToDc2, payload);
        Assert.That(echoed, Is.EqualTo(payload));

        // The call's hops, in the order they accept it: dashboard's sidecar (upstream listener), the dc1 gateway, the dc2
        // gateway, counting's sidecar (public listener). Each takes the next ID of the one sequence when it accepts.
        LogEvent upstream = await mesh.Logs.WaitForAsync(MeshLogEvents.UpstreamConnected);
        LogEvent dc1 = await mesh.Logs.WaitForAsync(MeshLogEvents.GatewayRouted, e => e["OutboundRemote"] == mesh.GatewayDc2.LocalEndPoints[0].ToString());
        LogEvent dc2 = await mesh.Logs.WaitForAsync(MeshLogEvents.GatewayRouted, e => e["OutboundRemote"] == mesh.CountingDc2Sidecar.PublicEndPoint!.ToString());
        LogEvent allowed = await mesh.Logs.WaitForAsync(MeshLogEvents.AuthorizationAllowed);
        long[] ids = [.. new[] { upstream, dc1, dc2, allowed }.Select(e => long.Parse(e["ConnectionId"]!, CultureInfo.InvariantCulture))];

        Assert.That(ids, Is.Unique, "one ID per connection across the sidecars and gateways of the process");
        Assert.That(ids, Is.Ordered.Ascending, "IDs from one process-wide sequence, in the order the hops accepted");
    }
}
