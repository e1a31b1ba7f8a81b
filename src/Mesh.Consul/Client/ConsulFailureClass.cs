namespace Mesh.Consul.Client;

/// <summary>Why a round of a blocking query failed; each class has its own log event and metric tag.</summary>
internal enum ConsulFailureClass
{
    /// <summary>No connection to the agent (refused, reset, DNS, socket missing).</summary>
    Unreachable,

    /// <summary>The agent did not answer within the wait time plus the request timeout.</summary>
    Timeout,

    /// <summary>A 5xx or 429 answer: the agent is up but cannot serve (no leader, servers away, rate limited).</summary>
    ServerError,

    /// <summary>A 404: the agent does not know the service or ID asked for.</summary>
    NotFound,

    /// <summary>An answer that is not the documented shape.</summary>
    InvalidResponse,

    /// <summary>A 403: the token lacks a permission. Permanent.</summary>
    PermissionDenied,
}
