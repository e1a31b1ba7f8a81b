using System.Net;
using System.Net.Sockets;
using Mesh.Splicing;
using Mesh.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Mesh.Core.Tests.Splicing;

[TestFixture]
[NonParallelizable]
public sealed class TcpAcceptLoopTests
{
    [Test]
    public async Task Out_of_descriptors_it_backs_off_and_accepts_once_they_free_up()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var logger = new CountingLogger();
        var accepted = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        Task<long> loop;

        // No descriptor below the limit is free: accept(2) fails with EMFILE, as in a process at its 20,000 cap.
        using (OpenFileLimit.Exhaust())
        {
            loop = TcpAcceptLoop.RunAsync(listener, s => accepted.TrySetResult(s), logger, cancellationToken: stop.Token);

            // The handshake completes in the kernel's backlog; only accept(2) needs a descriptor.
            await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(SpliceHarness.Guard);
            for (int i = 0; i < 2000 && logger.Backoffs < 3; i++)
            {
                await Task.Delay(5);
            }

            Assert.That(accepted.Task.IsCompleted, Is.False);
        }

        using Socket server = await accepted.Task.WaitAsync(SpliceHarness.Guard);
        await stop.CancelAsync();
        long backoffs = await loop.WaitAsync(SpliceHarness.Guard);
        Assert.Multiple(() =>
        {
            Assert.That(logger.Backoffs, Is.GreaterThanOrEqualTo(3), "it logged its back-offs");
            Assert.That(backoffs, Is.EqualTo(logger.Backoffs));

            // Doubling from 10 ms caps the retries at a handful, where a spinning loop would have made thousands.
            Assert.That(backoffs, Is.LessThan(50));
            Assert.That(server.RemoteEndPoint, Is.EqualTo(client.LocalEndPoint));
        });
    }

    [Test]
    public async Task Cancellation_stops_the_loop()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        using var stop = new CancellationTokenSource();
        int count = 0;
        Task<long> loop = TcpAcceptLoop.RunAsync(listener, s => { Interlocked.Increment(ref count); s.Dispose(); }, cancellationToken: stop.Token);
        using (var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await c.ConnectAsync(listener.LocalEndPoint!);
            for (int i = 0; i < 2000 && Volatile.Read(ref count) == 0; i++)
            {
                await Task.Delay(5);
            }
        }

        await stop.CancelAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(await loop.WaitAsync(SpliceHarness.Guard), Is.Zero);
            Assert.That(count, Is.EqualTo(1));
        });
    }

    private sealed class CountingLogger : ILogger
    {
        private int _backoffs;

        public int Backoffs => Volatile.Read(ref _backoffs);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == Mesh.Diagnostics.MeshLogEvents.AcceptBackoff)
            {
                Interlocked.Increment(ref _backoffs);
            }
        }
    }
}
