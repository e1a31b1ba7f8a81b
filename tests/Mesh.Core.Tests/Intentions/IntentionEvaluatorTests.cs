using System.Diagnostics.Metrics;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

public sealed class IntentionEvaluatorTests
{
    [Test]
    public void Counts_each_decision_by_its_result_and_what_decided_it()
    {
        var source = new InMemoryIntentionSource(new IntentionSet([new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Allow)]));
        var evaluator = new IntentionEvaluator(source);
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

        Assert.That(tags, Is.EqualTo(new[] { "mesh.result=allow,mesh.decided_by=intention", "mesh.result=deny,mesh.decided_by=default" }));
    }
}
