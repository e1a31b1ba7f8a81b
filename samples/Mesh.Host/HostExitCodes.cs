namespace Mesh.Host;

/// <summary>
/// The host's exit codes, documented in --help. Scripts and supervisors branch on them: keep each number's meaning stable and
/// add new codes at the end.
/// </summary>
internal static class HostExitCodes
{
    /// <summary>Stopped normally (Ctrl+C, SIGTERM) or printed --help.</summary>
    public const int Success = 0;

    /// <summary>An unexpected failure: the line says what; --verbose shows the stack trace.</summary>
    public const int Unexpected = 1;

    /// <summary>The command line is wrong: unknown option, missing or malformed value.</summary>
    public const int Usage = 2;

    /// <summary>The control-plane file is unreadable or invalid, or lacks what the role needs (datacenter, service, CA, token).</summary>
    public const int Configuration = 3;

    /// <summary>An address the role must listen on is taken by another process.</summary>
    public const int AddressInUse = 4;

    /// <summary>The CA refused the certificate request for good (wrong token, a request it will never sign): retrying cannot help.</summary>
    public const int RefusedByCa = 5;

    /// <summary>The CA could not be reached and the role gave up (transient failures are retried first).</summary>
    public const int CaUnreachable = 6;
}
