using System.Diagnostics.Metrics;
using Mesh.Diagnostics;

namespace Mesh.Intentions;

/// <summary>The <c>mesh.authz.decisions</c> counter; tags are constant strings so recording allocates nothing.</summary>
internal static class IntentionMetrics
{
    private static readonly Meter Meter = new(MeshMetrics.AuthorizationMeter);
    private static readonly Counter<long> Decisions = Meter.CreateCounter<long>(MeshMetrics.AuthorizationDecisions, description: "Intention decisions");

    public static void Record(in IntentionDecision decision)
    {
        if (!Decisions.Enabled)
        {
            return;
        }

        Decisions.Add(1,
            new KeyValuePair<string, object?>(MeshMetrics.ResultTag, decision.IsAllowed ? "allow" : "deny"),
            new KeyValuePair<string, object?>(MeshMetrics.DecidedByTag, decision.DecidedByDefault ? "default" : "intention"));
    }
}
