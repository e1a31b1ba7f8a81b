using System.Security.Authentication;
using Mesh.Tls.Validation;

namespace Mesh.Tls.MutualTls;

/// <summary>A mutual TLS handshake failed because the peer's X.509-SVID was refused; <see cref="Result"/> names the rule.</summary>
public sealed class PeerAuthenticationException : AuthenticationException
{
    /// <summary>Creates the exception.</summary>
    public PeerAuthenticationException(SvidValidationResult result, Exception? innerException)
        : base($"The peer's certificate was refused: {result}.", innerException) => Result = result;

    /// <summary>Creates the exception.</summary>
    public PeerAuthenticationException()
        : base("The peer's certificate was refused.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public PeerAuthenticationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PeerAuthenticationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The validation result.</summary>
    public SvidValidationResult Result { get; }
}
