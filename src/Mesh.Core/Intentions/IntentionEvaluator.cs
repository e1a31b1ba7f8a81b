using System.Diagnostics.Metrics;
using Mesh.ControlPlane;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>
/// Authorizes connections and requests against the current snapshot of an <see cref="IIntentionSource"/>, counting each
/// decision (<c>mesh.authz.decisions</c>). Lock-free: each call reads the current snapshot once.
/// </summary>
/// <remarks>
/// The evaluator writes no log line: the caller that acts on the decision does, once, with the connection's details (a sidecar's
/// or an in-process service's admission names the intention's ID and precedence on a deny; the ASP.NET Core middleware the
/// request). A second line here would count every decision twice in an operator's logs.
/// </remarks>
public sealed class IntentionEvaluator
{
    private readonly IIntentionSource _source;
    private readonly IntentionMetrics _metrics;

    /// <summary>Creates an evaluator over a source of intention snapshots.</summary>
    /// <param name="source">The intention snapshots.</param>
    /// <param name="meterFactory">Creates the <c>Mesh.Authorization</c> meter (the host's, under dependency injection); a shared static meter when null.</param>
    public IntentionEvaluator(IIntentionSource source, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _metrics = IntentionMetrics.For(meterFactory);
    }

    /// <summary>Authorizes a plain connection (see <see cref="IntentionSet.Decide(ServiceName, ServiceName, string?)"/>).</summary>
    public IntentionDecision Authorize(ServiceName source, ServiceName destination, string? sourcePeer = null) =>
        Record(_source.Current.Decide(source, destination, sourcePeer));

    /// <summary>Authorizes an HTTP request (see <see cref="IntentionSet.DecideHttp{TRequest}"/>).</summary>
    public IntentionDecision AuthorizeHttp<TRequest>(ServiceName source, ServiceName destination, ref TRequest request, string? sourcePeer = null)
        where TRequest : IIntentionHttpRequest, allows ref struct =>
        Record(_source.Current.DecideHttp(source, destination, ref request, sourcePeer));

    private IntentionDecision Record(IntentionDecision decision)
    {
        _metrics.Record(decision);
        return decision;
    }
}
