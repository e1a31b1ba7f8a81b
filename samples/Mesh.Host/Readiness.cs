namespace Mesh.Host;

/// <summary>Whether the role is ready for traffic: /health/ready answers 200 only then.</summary>
internal sealed class Readiness
{
    private volatile bool _ready;

    public bool IsReady => _ready;

    public void MarkReady() => _ready = true;

    public void MarkDraining() => _ready = false;
}
