namespace Mesh.Tls.Rotation;

/// <summary>Settings of <see cref="LeafRotationManager"/>.</summary>
public sealed class LeafRotationOptions
{
    /// <summary>The first retry delay after a failed renewal; doubled on each failure.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay.</summary>
    public TimeSpan RetryMaximumDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The least time between two successful renewals, so a CA that only hands out leaves shorter than 10 minutes (renewed at
    /// once) does not make the manager spin.
    /// </summary>
    public TimeSpan MinimumRenewalInterval { get; set; } = TimeSpan.FromSeconds(1);
}
