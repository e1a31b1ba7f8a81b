using Microsoft.Extensions.Logging;

namespace Mesh.Tests.Shared;

/// <summary>
/// The logger of a child process: each AcceptBackoff warning becomes a line <c>backoff DELAY_MS</c> on standard output, which
/// the test reads through <see cref="ChildProcess.WaitForAsync"/>; other events are not written.
/// </summary>
internal sealed class AcceptBackoffLineLogger : ILoggerFactory, ILogger
{
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
        if (eventId.Id != Mesh.Diagnostics.MeshLogEvents.AcceptBackoff || state is not IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            return;
        }

        foreach (KeyValuePair<string, object?> value in values)
        {
            if (value.Key == "DelayMs" && value.Value is int delay)
            {
                // Formatted as a console or file logger would, so that what formatting needs is exercised too.
                Console.WriteLine($"backoff {delay} {formatter(state, exception)}");
            }
        }
    }
}
