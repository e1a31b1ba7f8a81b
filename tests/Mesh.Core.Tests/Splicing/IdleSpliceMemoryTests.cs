using System.Net.Sockets;
using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

/// <summary>What a relay holding many idle connections pays for each, beyond the sockets it was given.</summary>
[TestFixture]
[NonParallelizable]
public sealed class IdleSpliceMemoryTests
{
    private const int Splices = 500;

    [Test]
    public async Task An_idle_splice_holds_under_a_kilobyte_of_managed_memory_beyond_its_sockets()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("The event loop that keeps idle waits small is Linux's.");
        }

        var peers = new List<Socket>(Splices * 2);
        var relays = new List<(Socket A, Socket B)>(Splices);
        var splices = new List<Task<SpliceResult>>(Splices);
        try
        {
            for (int i = 0; i < Splices; i++)
            {
                (Socket client, Socket relayA) = await PairAsync();
                (Socket relayB, Socket server) = await PairAsync();
                peers.Add(client);
                peers.Add(server);
                relays.Add((relayA, relayB));
            }

            var splicer = new TcpSplicer();
            // The default options: a relay that sets nothing gets the event loop's small idle waits.
            var options = new SpliceOptions();
            long before = GC.GetTotalMemory(forceFullCollection: true);
            foreach ((Socket a, Socket b) in relays)
            {
                // Both directions are waiting for their source once SpliceAsync returns.
                splices.Add(splicer.SpliceAsync(a, b, default, options));
            }

            long after = GC.GetTotalMemory(forceFullCollection: true);
            double perSplice = (after - before) / (double)Splices;
            TestContext.Out.WriteLine($"{perSplice:F0} bytes per idle splice");

            // The splice, its task and idle timer, and its two waits: no receive state of the runtime's socket engine.
            Assert.That(perSplice, Is.LessThan(1024));
        }
        finally
        {
            foreach (Socket peer in peers)
            {
                peer.Dispose();
            }

            foreach (Task<SpliceResult> splice in splices)
            {
                _ = await splice.WaitAsync(Guard);
            }
        }
    }
}
