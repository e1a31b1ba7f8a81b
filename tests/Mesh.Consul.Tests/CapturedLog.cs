using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mesh.Consul.Tests;

/// <summary>A logger factory that keeps every line (event ID, level, formatted message and exception text) for assertions.</summary>
internal sealed class CapturedLog : ILoggerFactory
{
    private readonly ConcurrentQueue<Line> _lines = new();

    public IReadOnlyList<Line> Lines => [.. _lines];

    public int Count(int eventId) => _lines.Count(l => l.EventId == eventId);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    internal sealed record Line(int EventId, LogLevel Level, string Message, string? Exception);

    private sealed class Logger(CapturedLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue(new Line(eventId.Id, logLevel, formatter(state, exception), exception?.ToString()));
    }
}
