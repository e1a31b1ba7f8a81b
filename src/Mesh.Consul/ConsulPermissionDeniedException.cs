namespace Mesh.Consul;

/// <summary>
/// The Consul agent refused a query with 403: the ACL token lacks a permission. This is permanent until the token or its policy
/// changes, so the source stops querying; the message names the endpoint and the permission the token needs.
/// </summary>
public sealed class ConsulPermissionDeniedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConsulPermissionDeniedException(string endpoint, string requiredPermission, string? agentMessage = null)
        : base($"The Consul agent refused {endpoint} with 403 Permission denied: the ACL token (X-Consul-Token, CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE) needs {requiredPermission}."
            + (string.IsNullOrWhiteSpace(agentMessage) ? string.Empty : $" The agent said: {agentMessage.Trim()}"))
    {
        Endpoint = endpoint;
        RequiredPermission = requiredPermission;
    }

    /// <summary>Creates the exception with a message.</summary>
    public ConsulPermissionDeniedException()
        : this("a query", "a permission it does not have")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ConsulPermissionDeniedException(string message)
        : base(message)
    {
        Endpoint = string.Empty;
        RequiredPermission = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public ConsulPermissionDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Endpoint = string.Empty;
        RequiredPermission = string.Empty;
    }

    /// <summary>The endpoint refused, without query string (e.g. <c>GET /v1/agent/connect/ca/leaf/web</c>).</summary>
    public string Endpoint { get; }

    /// <summary>The ACL permission the token needs, as Consul's policy language writes it (e.g. <c>service:write on "web"</c>).</summary>
    public string RequiredPermission { get; }
}
