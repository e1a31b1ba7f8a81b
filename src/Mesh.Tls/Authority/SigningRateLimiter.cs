namespace Mesh.Tls.Authority;

/// <summary>
/// A token bucket like Consul's CSR limiter: <c>rate</c> signings per second with a burst of one second's worth; 0 turns it off.
/// </summary>
/// <remarks>
/// Consul's burst is 1. Here sidecars ask the CA themselves and a fleet restarted together asks at once, so the burst is one
/// second's worth; only callers already authorized for the identity they ask for reach the bucket (docs/ca.md).
/// </remarks>
internal sealed class SigningRateLimiter
{
    private readonly double _rate;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private double _tokens;
    private long _last;

    public SigningRateLimiter(double rate, TimeProvider time)
    {
        _rate = rate;
        _burst = Math.Max(1, Math.Ceiling(rate));
        _time = time;
        _tokens = _burst;
        _last = time.GetTimestamp();
    }

    public double Rate => _rate;

    public bool TryAcquire()
    {
        if (_rate <= 0)
        {
            return true;
        }

        lock (_lock)
        {
            long now = _time.GetTimestamp();
            _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _rate));
            _last = now;
            if (_tokens < 1)
            {
                return false;
            }

            _tokens--;
            return true;
        }
    }
}
