using System.Diagnostics.Metrics;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Identity;
using Mesh.Intentions;
using Microsoft.Extensions.Logging;

namespace Mesh.Core.Tests.Intentions;

public sealed class IntentionEvaluatorTests
{
    [Test]
    public void Counts_and_logs_each_decision_with_its_reason()
    {
        var source = new InMemoryIntentionSource(new IntentionSet([new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Allow)]));
        var logger = new ListLogger();
        var evaluator = new IntentionEvaluator(source, logger);
        var tags = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MeshMetrics.AuthorizationMeter && instrument.Name == MeshMetrics.AuthorizationDecisions)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, t, _) =>
        {
            lock (tags)
            {
                tags.Add(string.Join(",", t.ToArray().Select(kv => $"{kv.Key}={kv.Value}")));
            }
        });
        listener.Start();

        Assert.That(evaluator.Authorize(new ServiceName("web"), new ServiceName("api")).IsAllowed, Is.True);
        Assert.That(evaluator.Authorize(new ServiceName("db"), new ServiceName("api")).IsAllowed, Is.False);

        Assert.Multiple(() =>
        {
            Assert.That(tags, Is.EqualTo(new[] { "mesh.result=allow,mesh.decided_by=intention", "mesh.result=deny,mesh.decided_by=default" }));
            Assert.That(logger.Entries, Has.Count.EqualTo(2));
            Assert.That(logger.Entries[0], Is.EqualTo((MeshLogEvents.AuthorizationAllowed, "Allowed web => api: ALLOW: Matched L4 intention: web => api (Precedence: 9, Action: ALLOW)")));
            Assert.That(logger.Entries[1], Is.EqualTo((MeshLogEvents.AuthorizationDenied, "Denied db => api: DENY: Default intention policy")));
        });
    }

    private sealed class ListLogger : ILogger<IntentionEvaluator>
    {
        public List<(int EventId, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((eventId.Id, formatter(state, exception)));
    }
}
