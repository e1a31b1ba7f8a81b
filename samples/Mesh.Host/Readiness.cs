namespace Mesh.Host;

/// <summary>Whether the role is ready for traffic: /health/ready answers 200 only then.</summary>
internal sealed class Readiness
{
    private volatile bool _ready;
    private volatile Func<bool>? _condition;

    public bool IsReady => _ready && (_condition?.Invoke() ?? true);

    public void MarkReady() => _ready = true;

    /// <summary>Ready for as long as <paramref name="condition"/> holds (a sidecar: while its local application passes its check).</summary>
    public void MarkReadyWhile(Func<bool> condition)
    {
        _condition = condition;
        _ready = true;
    }

    public void MarkDraining() => _ready = false;
}
