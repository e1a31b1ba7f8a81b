namespace Mesh.Tls.Authority;

/// <summary>The CA refused a signing request; <see cref="Error"/> names the rule.</summary>
public sealed class CertificateSigningException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CertificateSigningException(CertificateSigningError error, string message)
        : base(message) => Error = error;

    /// <summary>Creates the exception.</summary>
    public CertificateSigningException()
        : this(CertificateSigningError.MalformedRequest, "The signing request was refused.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public CertificateSigningException(string message)
        : this(CertificateSigningError.MalformedRequest, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public CertificateSigningException(string message, Exception innerException)
        : base(message, innerException) => Error = CertificateSigningError.MalformedRequest;

    /// <summary>The rule the request broke.</summary>
    public CertificateSigningError Error { get; }
}
