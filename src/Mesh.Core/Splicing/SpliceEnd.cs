namespace Mesh.Splicing;

/// <summary>How a splice ended.</summary>
public enum SpliceEnd
{
    /// <summary>Both directions finished with a FIN (or TLS <c>close_notify</c>); both peers saw a clean end.</summary>
    Completed = 1,

    /// <summary>Side A reset its connection or failed; side B was reset in turn.</summary>
    ResetByA,

    /// <summary>Side B reset its connection or failed; side A was reset in turn.</summary>
    ResetByB,

    /// <summary>No byte moved for <see cref="SpliceOptions.IdleTimeout"/> (or <see cref="SpliceOptions.DrainTimeout"/> once a direction had ended); both sides were reset.</summary>
    IdleTimeout,

    /// <summary>The caller's cancellation token fired; both sides were reset.</summary>
    Cancelled,

    /// <summary>Side B, a TLS stream, ended with a bare FIN and no <c>close_notify</c>, and <see cref="SpliceOptions.TruncatedTlsEnd"/> said to reset side A.</summary>
    TruncatedByB,

    /// <summary>An unexpected error ended the splice; both sides were reset. <see cref="SpliceResult.Error"/> holds it.</summary>
    Error,
}
