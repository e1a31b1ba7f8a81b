using Mesh.Consul.TestAgent;
using Mesh.Tls.InProcess;

namespace Mesh.Consul.Tests;

/// <summary>Shared set-up: fast query timings against a test agent, and waiting for an observable condition.</summary>
internal static class ConsulTestContext
{
    public static ConsulOptions FastOptions(ConsulTestAgent agent) => new()
    {
        Address = agent.Address,
        WaitTime = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(2),
        MinimumRoundInterval = TimeSpan.FromMilliseconds(20),
        MinimumRetryDelay = TimeSpan.FromMilliseconds(50),
        MaximumRetryDelay = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>Waits until a condition holds; fails with <paramref name="what"/> after 15 s (a hang, not a speed check).</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!condition())
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(20);
        }
    }

    public static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token;

    /// <summary>Dials once the catalog lists an endpoint (the agent's blocking query answers after the registration).</summary>
    public static async Task<MeshStream> DialWhenListedAsync(MeshService service, string upstream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            try
            {
                return await service.DialAsync(upstream, cancellationToken: timeout.Token);
            }
            catch (MeshConnectionException ex) when (ex.Error == MeshConnectionError.NoHealthyEndpoint && !timeout.IsCancellationRequested)
            {
                await Task.Delay(20, timeout.Token);
            }
        }
    }
}
