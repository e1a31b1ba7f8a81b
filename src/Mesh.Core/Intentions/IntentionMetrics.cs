using System.Diagnostics.Metrics;
using Mesh.Diagnostics;

namespace Mesh.Intentions;

/// <summary>
/// The <c>mesh.authz.decisions</c> counter on the <see cref="MeshMetrics.AuthorizationMeter"/> meter: from the host's
/// <see cref="IMeterFactory"/> when there is one, else <see cref="Shared"/>. Tags are constant strings so recording allocates nothing.
/// </summary>
internal sealed class IntentionMetrics
{
    private static readonly KeyValuePair<string, object?> s_allow = new(MeshMetrics.ResultTag, "allow");
    private static readonly KeyValuePair<string, object?> s_deny = new(MeshMetrics.ResultTag, "deny");
    private static readonly KeyValuePair<string, object?> s_byDefault = new(MeshMetrics.DecidedByTag, "default");
    private static readonly KeyValuePair<string, object?> s_byIntention = new(MeshMetrics.DecidedByTag, "intention");

    private readonly Counter<long> _decisions;

    private IntentionMetrics(Meter meter) =>
        _decisions = meter.CreateCounter<long>(MeshMetrics.AuthorizationDecisions, unit: "{decision}", description: "Intention decisions, by result and what decided.");

    /// <summary>The counter on the process-wide static meter, for evaluators built without a meter factory.</summary>
    public static IntentionMetrics Shared { get; } = new(new Meter(MeshMetrics.AuthorizationMeter));

    public static IntentionMetrics For(IMeterFactory? meterFactory) =>
        meterFactory is null ? Shared : new IntentionMetrics(meterFactory.Create(MeshMetrics.AuthorizationMeter));

    public void Record(in IntentionDecision decision)
    {
        if (!_decisions.Enabled)
        {
            return;
        }

        _decisions.Add(1, decision.IsAllowed ? s_allow : s_deny, decision.DecidedByDefault ? s_byDefault : s_byIntention);
    }
}
