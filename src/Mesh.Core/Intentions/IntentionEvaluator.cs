using System.Diagnostics.Metrics;
using Mesh.ControlPlane;
using Mesh.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Intentions;

/// <summary>
/// Authorizes connections and requests against the current snapshot of an <see cref="IIntentionSource"/>, counting each
/// decision (<c>mesh.authz.decisions</c>) and logging it (denials at Information, event 4001; allows at Debug, event 4000).
/// Lock-free: each call reads the current snapshot once.
/// </summary>
public sealed class IntentionEvaluator
{
    private readonly IIntentionSource _source;
    private readonly ILogger _logger;
    private readonly IntentionMetrics _metrics;

    /// <summary>Creates an evaluator over a source of intention snapshots.</summary>
    /// <param name="source">The intention snapshots.</param>
    /// <param name="logger">Logs each decision; none when null.</param>
    /// <param name="meterFactory">Creates the <c>Mesh.Authorization</c> meter (the host's, under dependency injection); a shared static meter when null.</param>
    public IntentionEvaluator(IIntentionSource source, ILogger<IntentionEvaluator>? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _metrics = IntentionMetrics.For(meterFactory);
    }

    /// <summary>Authorizes a plain connection (see <see cref="IntentionSet.Decide(ServiceName, ServiceName, string?)"/>).</summary>
    public IntentionDecision Authorize(ServiceName source, ServiceName destination, string? sourcePeer = null) =>
        Record(source, destination, _source.Current.Decide(source, destination, sourcePeer));

    /// <summary>Authorizes an HTTP request (see <see cref="IntentionSet.DecideHttp{TRequest}"/>).</summary>
    public IntentionDecision AuthorizeHttp<TRequest>(ServiceName source, ServiceName destination, ref TRequest request, string? sourcePeer = null)
        where TRequest : IIntentionHttpRequest, allows ref struct =>
        Record(source, destination, _source.Current.DecideHttp(source, destination, ref request, sourcePeer));

    private IntentionDecision Record(ServiceName source, ServiceName destination, IntentionDecision decision)
    {
        _metrics.Record(decision);
        if (decision.IsAllowed)
        {
            IntentionLog.Allowed(_logger, source, destination, decision);
        }
        else
        {
            IntentionLog.Denied(_logger, source, destination, decision);
        }

        return decision;
    }
}
