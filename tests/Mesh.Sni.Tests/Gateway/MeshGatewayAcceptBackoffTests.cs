using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Sni.Gateway;
using Mesh.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Mesh.Sni.Tests.Gateway;

/// <summary>
/// A gateway whose process runs out of file descriptors backs off accepting the way every listener of the mesh does (10 ms,
/// doubling up to 1 s, TcpAcceptLoop's policy) on both of its engines, and accepts the waiting connection once descriptors free up.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
[NonParallelizable]
public sealed class MeshGatewayAcceptBackoffTests(bool socketEngine)
{
    private static readonly TrustDomain Td = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");

    [Test]
    public async Task Out_of_descriptors_it_backs_off_10_ms_doubling_and_accepts_once_they_free_up()
    {
        Assume.That(OperatingSystem.IsLinux(), "RLIMIT_NOFILE and /proc/self/fd (Linux)");
        var log = new BackoffLog();
        var options = new MeshGatewayOptions { Datacenter = "dc2", TrustDomain = Td };
        options.ListenEndPoints.Add(new IPEndPoint(IPAddress.Loopback, 0));
        if (socketEngine)
        {
            options.Splice = new Mesh.Splicing.SpliceOptions { TimeProvider = new SystemClockOfItsOwn() };
        }

        await using var gateway = new MeshGateway(options, new InMemoryServiceCatalog([], []), log);
        await gateway.StartAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        // No descriptor below the limit is free: accept(2) fails with EMFILE, as in a process at its 20,000 cap.
        using (OpenFileLimit.Exhaust())
        {
            // The handshake completes in the kernel's backlog; only accept(2) needs a descriptor.
            await client.ConnectAsync(gateway.LocalEndPoints[0]).WaitAsync(TimeSpan.FromSeconds(10));
            for (int i = 0; i < 2000 && log.Delays.Count < 3; i++)
            {
                await Task.Delay(5);
            }
        }

        Assert.That(log.Delays.Take(3), Is.EqualTo(new[] { 10, 20, 40 }), "the back-off each AcceptBackoff warning announces, in ms");

        // Descriptors are back: the waiting connection is accepted, and being no TLS it is closed.
        await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.That(await ReadOrReset(client).WaitAsync(TimeSpan.FromSeconds(10)), Is.Zero, "accepted and closed: not TLS");
    }

    private static async Task<int> ReadOrReset(Socket socket)
    {
        try
        {
            return await socket.ReceiveAsync(new byte[16]);
        }
        catch (SocketException)
        {
            return 0;
        }
    }

    /// <summary>The system's clock, but not <see cref="TimeProvider.System"/> itself: the gateway then runs on the socket engine.</summary>
    private sealed class SystemClockOfItsOwn : TimeProvider;

    /// <summary>Keeps the DelayMs of every AcceptBackoff warning, in order.</summary>
    private sealed class BackoffLog : ILoggerFactory, ILogger
    {
        private readonly ConcurrentQueue<int> _delays = new();

        public ConcurrentQueue<int> Delays => _delays;

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == Mesh.Diagnostics.MeshLogEvents.AcceptBackoff && state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (KeyValuePair<string, object?> value in values)
                {
                    if (value.Key == "DelayMs" && value.Value is int delay)
                    {
                        _delays.Enqueue(delay);
                    }
                }
            }
        }
    }
}
