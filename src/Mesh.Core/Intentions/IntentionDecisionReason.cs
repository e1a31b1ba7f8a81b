namespace Mesh.Intentions;

/// <summary>What decided a connection or request.</summary>
public enum IntentionDecisionReason
{
    /// <summary>No intention matched the source; the default policy decided.</summary>
    DefaultPolicy = 0,

    /// <summary>An L4 intention matched and its action decided.</summary>
    MatchedL4Intention,

    /// <summary>An intention with L7 permissions matched a plain connection, which it denies.</summary>
    MatchedL7IntentionOnConnection,

    /// <summary>An L7 intention matched and one of its permissions matched the request.</summary>
    MatchedPermission,

    /// <summary>An L7 intention matched but none of its permissions matched the request; the default policy decided.</summary>
    NoPermissionMatched,

    /// <summary>The request path cannot be normalised (not starting with <c>/</c>, a bad percent escape); denied.</summary>
    InvalidRequestPath,
}
