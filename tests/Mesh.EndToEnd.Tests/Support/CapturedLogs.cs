using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mesh.EndToEnd.Tests.Support;

/// <summary>A logger factory that keeps every structured log event, so tests can assert what an operator would read.</summary>
internal sealed class CapturedLogs : ILoggerFactory
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyList<LogEvent> Events => [.. _events];

    public IEnumerable<LogEvent> WithId(int eventId) => _events.Where(e => e.EventId == eventId);

    public async Task<LogEvent> WaitForAsync(int eventId, Func<LogEvent, bool>? predicate = null, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            LogEvent? found = _events.FirstOrDefault(e => e.EventId == eventId && (predicate?.Invoke(e) ?? true));
            if (found is not null)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No log event {eventId} arrived; events seen: {string.Join(" | ", _events.Select(e => $"{e.EventId} {e.Message}").TakeLast(15))}");
            }

            await Task.Delay(20);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new Dictionary<string, string?>(StringComparer.Ordinal);
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (KeyValuePair<string, object?> pair in pairs)
                {
                    values[pair.Key] = pair.Value?.ToString();
                }
            }

            owner._events.Enqueue(new LogEvent(category, eventId.Id, logLevel, formatter(state, exception), values));
        }
    }
}

/// <summary>One structured log event.</summary>
internal sealed record LogEvent(string Category, int EventId, LogLevel Level, string Message, IReadOnlyDictionary<string, string?> State)
{
    public string? this[string key] => State.TryGetValue(key, out string? value) ? value : null;
}
