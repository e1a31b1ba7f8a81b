using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

/// <summary>Counts the process's descriptors around every splicing test: none may be left behind.</summary>
[SetUpFixture]
[NonParallelizable]
public sealed class SpliceDescriptorFixture
{
    private int _before;
    private string _beforeKinds = "";

    [OneTimeSetUp]
    public async Task CountBefore()
    {
        // Let the runtime open what it opens once (the socket engine's epoll and wake-up descriptors) before counting.
        using Relayed warm = await RelayAsync(kernel: true);
        warm.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        warm.Server.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        _ = await warm.Result;
        warm.Dispose();

        // And what it opens at its first child process (the pipe its SIGCHLD handling wakes on): the accept loop's
        // out-of-descriptors test runs in one.
        using (var child = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false }))
        {
            await child!.WaitForExitAsync();
        }

        Settle();
        _before = OpenDescriptors();
        _beforeKinds = DescribeDescriptors();
    }

    [OneTimeTearDown]
    public void CountAfter()
    {
        Settle();
        int after = OpenDescriptors();
        Assert.That(after, Is.LessThanOrEqualTo(_before), $"descriptors before the splicing tests: {_before} ({_beforeKinds}), after: {after} ({DescribeDescriptors()})");
        Assert.That(KernelPipePool.InUse, Is.Zero, "kernel pipes still lent out");
    }
}
