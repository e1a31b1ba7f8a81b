namespace Mesh.Intentions;

/// <summary>
/// The outcome of an intention decision: allowed or not, and what decided it (the matched intention and its precedence, the
/// permission, or the default policy). A small struct: making one allocates nothing; <see cref="FormatReason"/> builds the
/// Consul-style text only when a log line needs it.
/// </summary>
public readonly struct IntentionDecision
{
    internal IntentionDecision(bool allowed, IntentionDecisionReason reason, Intention? intention, int permissionIndex = -1)
    {
        IsAllowed = allowed;
        Reason = reason;
        Intention = intention;
        PermissionIndex = permissionIndex;
    }

    /// <summary>Whether the connection or request may proceed.</summary>
    public bool IsAllowed { get; }

    /// <summary>What decided.</summary>
    public IntentionDecisionReason Reason { get; }

    /// <summary>The intention whose source matched, or null when none did.</summary>
    public Intention? Intention { get; }

    /// <summary>The ID of the matched intention (empty when it has none), or null when none matched.</summary>
    public string? IntentionId => Intention?.Id;

    /// <summary>
    /// The intention ID for a log line: the matched intention's ID, or a constant saying why there is none (the default policy
    /// decided, or the intention came from a config entry, which Consul leaves without an ID). Allocates nothing.
    /// </summary>
    public string IntentionIdForLog => Intention switch
    {
        null => "none (default policy)",
        { Id.Length: > 0 } intention => intention.Id,
        _ => "none (config entry)",
    };

    /// <summary>The precedence of the matched intention, or 0 when none matched.</summary>
    public int Precedence => Intention?.Precedence ?? 0;

    /// <summary>The index of the permission that decided, or -1.</summary>
    public int PermissionIndex { get; }

    /// <summary>Whether the default policy decided (no intention matched, or an L7 intention's permissions all missed).</summary>
    public bool DecidedByDefault => Reason is IntentionDecisionReason.DefaultPolicy or IntentionDecisionReason.NoPermissionMatched;

    /// <summary>The reason in Consul's words, for logs: <c>Matched L4 intention: web => api (Precedence: 9, Action: ALLOW)</c>.</summary>
    public string FormatReason() => Reason switch
    {
        IntentionDecisionReason.MatchedL4Intention => $"Matched L4 intention: {Intention}",
        IntentionDecisionReason.MatchedL7IntentionOnConnection => $"Matched L7 intention: {Intention}",
        IntentionDecisionReason.MatchedPermission =>
            $"Matched L7 intention: {Intention}, Permissions[{PermissionIndex}]: {(IsAllowed ? "ALLOW" : "DENY")}",
        IntentionDecisionReason.NoPermissionMatched => $"Default intention policy: no permission matched of L7 intention: {Intention}",
        IntentionDecisionReason.InvalidRequestPath => "Request path cannot be normalised",
        _ => "Default intention policy",
    };

    /// <summary><c>ALLOW</c> or <c>DENY</c> and the reason.</summary>
    public override string ToString() => (IsAllowed ? "ALLOW: " : "DENY: ") + FormatReason();
}
