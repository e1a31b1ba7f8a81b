namespace Mesh.Endpoints;

/// <summary>What <see cref="EndpointOutlierDetector"/> knows of one endpoint that has failed; guarded by its own lock.</summary>
internal sealed class EndpointOutlierState
{
    public readonly Lock Sync = new();

    /// <summary>Connect failures since the last success or ejection.</summary>
    public int ConsecutiveFailures;

    /// <summary>How many times the endpoint has been ejected without a healthy period since: the multiplier of the next ejection.</summary>
    public int Ejections;

    /// <summary>Whether the endpoint is out of rotation until <see cref="EjectedUntil"/>.</summary>
    public bool Ejected;

    /// <summary>
    /// Back from an ejection and not yet connected to: the first connection is its probe, and one failure ejects it again (no
    /// need to pay <see cref="OutlierDetectionOptions.ConsecutiveFailures"/> more failed connects to learn it is still down).
    /// </summary>
    public bool OnProbation;

    /// <summary>When the current ejection ends (UTC ticks of the detector's clock).</summary>
    public long EjectedUntil;

    /// <summary>When the endpoint last failed (UTC ticks), to forget endpoints that left the catalog.</summary>
    public long LastFailure;

    /// <summary>Removed from the detector: a caller holding it must look the endpoint up again.</summary>
    public bool Forgotten;
}
