using System.Net;
using System.Net.Sockets;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Sni.Gateway;
using Mesh.Tests.Shared;

namespace Mesh.Sni.Tests.Gateway;

/// <summary>
/// The child process of <see cref="MeshGatewayAcceptBackoffTests"/>: a gateway whose process runs out of descriptors on command
/// (<c>exhaust</c>) and gets them back (<c>restore</c>); it stops when its standard input ends.
/// </summary>
internal static class GatewayOutOfDescriptorsChild
{
    public const string Scenario = "gateway-out-of-descriptors";

    public static async Task<int> RunAsync(bool socketEngine)
    {
        var options = new MeshGatewayOptions { Datacenter = "dc2", TrustDomain = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul") };
        options.ListenEndPoints.Add(new IPEndPoint(IPAddress.Loopback, 0));
        if (socketEngine)
        {
            options.Splice = new Mesh.Splicing.SpliceOptions { TimeProvider = new SystemClockOfItsOwn() };
        }

        await using (var gateway = new MeshGateway(options, new InMemoryServiceCatalog([], []), new AcceptBackoffLineLogger()))
        {
            await gateway.StartAsync();

            // Everything that opens a descriptor once per process (the socket engine, the console's streams) does so now.
            using (var warm = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                await warm.ConnectAsync(gateway.LocalEndPoints[0]);
            }

            // The runtime starts its timer thread at the first timer, and a new thread needs a descriptor (a pipe): a process that
            // has been running for a while has it, this one makes it now.
            await Task.Delay(1);

            DescriptorLimit.ExhaustAndRestoreOnCommand(gateway.LocalEndPoints[0].Port);
        }

        Console.WriteLine("stopped");
        return 0;
    }

    /// <summary>The system's clock, but not <see cref="TimeProvider.System"/> itself: the gateway then runs on the socket engine.</summary>
    private sealed class SystemClockOfItsOwn : TimeProvider;
}
