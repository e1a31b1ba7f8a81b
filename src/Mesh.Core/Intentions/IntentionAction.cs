namespace Mesh.Intentions;

/// <summary>What an intention, a permission or the default policy does with a connection or request.</summary>
public enum IntentionAction
{
    /// <summary>Refuse: a TCP reset for a connection, 403 for an HTTP request.</summary>
    Deny = 0,

    /// <summary>Let the connection or request through.</summary>
    Allow = 1,
}
