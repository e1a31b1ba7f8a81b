namespace Mesh.Intentions;

/// <summary>
/// One L7 permission of an intention: an action and the HTTP request criteria it applies to. An intention's permissions are
/// tried in list order and the first whose criteria all match decides (consul-semantics §5).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "Consul's own name for it: IntentionPermission.")]
public sealed class IntentionPermission
{
    /// <summary>Creates a permission; it is checked when the intention holding it is created.</summary>
    public IntentionPermission(IntentionAction action, IntentionHttpMatch http)
    {
        ArgumentNullException.ThrowIfNull(http);
        Action = action;
        Http = http;
    }

    /// <summary>What a matching request gets.</summary>
    public IntentionAction Action { get; }

    /// <summary>The criteria; all of those set must match.</summary>
    public IntentionHttpMatch Http { get; }
}
