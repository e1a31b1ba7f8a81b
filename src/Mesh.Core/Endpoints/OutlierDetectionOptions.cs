namespace Mesh.Endpoints;

/// <summary>
/// When an endpoint that refuses connections is taken out of rotation, and for how long: Envoy's outlier detection
/// (<c>consecutive_gateway_failure</c>, <c>base_ejection_time</c>, <c>max_ejection_time</c>) applied to connect failures.
/// <see cref="EndpointOutlierDetector"/> refuses options out of range with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>.
/// </summary>
public sealed class OutlierDetectionOptions
{
    /// <summary>The default settings.</summary>
    public static OutlierDetectionOptions Default { get; } = new();

    /// <summary>
    /// Consecutive connect failures (refused, reset or timed out) that eject an endpoint (3). Envoy's default for gateway
    /// failures is 5; a connect failure is a stronger signal than a 5xx, and each one costs a caller a retry.
    /// </summary>
    public int ConsecutiveFailures { get; init; } = 3;

    /// <summary>
    /// How long the first ejection lasts (30 s, Envoy's <c>base_ejection_time</c>); each further ejection of the same endpoint
    /// lasts one more multiple of it, up to <see cref="MaxEjectionTime"/>.
    /// </summary>
    public TimeSpan BaseEjectionTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest ejection (300 s, Envoy's <c>max_ejection_time</c>).</summary>
    public TimeSpan MaxEjectionTime { get; init; } = TimeSpan.FromSeconds(300);
}
