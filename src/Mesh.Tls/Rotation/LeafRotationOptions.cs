namespace Mesh.Tls.Rotation;

/// <summary>Settings of <see cref="LeafRotationManager"/>.</summary>
public sealed class LeafRotationOptions
{
    /// <summary>The first retry delay after a failed renewal; doubled on each failure, with jitter.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay.</summary>
    public TimeSpan RetryMaximumDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The least time between two renewals, whatever the leaf's lifetime or the CA's answers: a CA that hands out very short
    /// leaves, or leaves from an issuer other than the root it announces, cannot make the manager renew faster than this.
    /// </summary>
    public TimeSpan MinimumRenewalInterval { get; set; } = TimeSpan.FromSeconds(1);
}
