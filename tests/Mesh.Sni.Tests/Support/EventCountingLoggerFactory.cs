using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mesh.Sni.Tests.Support;

/// <summary>A logger factory that counts the events written, by event ID, at every level.</summary>
internal sealed class EventCountingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentDictionary<int, int> _counts = new();

    public int Count(int eventId) => _counts.TryGetValue(eventId, out int n) ? n : 0;

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(EventCountingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._counts.AddOrUpdate(eventId.Id, 1, static (_, n) => n + 1);
    }
}
