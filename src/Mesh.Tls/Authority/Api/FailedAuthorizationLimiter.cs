using System.Net;

namespace Mesh.Tls.Authority.Api;

/// <summary>
/// Limits failed authorizations per client address so tokens cannot be guessed at full speed: a token bucket per address that
/// allows <see cref="Burst"/> failures back to back and forgives one every <see cref="RefillInterval"/>. While an address's bucket
/// is empty, every signing request from it is refused, the right token included, so a hit looks like a miss.
/// </summary>
/// <remarks>
/// The table is bounded: past <see cref="MaxTrackedAddresses"/> addresses, the ones that have fully recovered are dropped, and
/// while it is still full new addresses share one bucket. That bucket may refuse honest callers during an attack from very many
/// addresses, which is the safer failure for a CA.
/// </remarks>
internal sealed class FailedAuthorizationLimiter(TimeProvider time)
{
    public const int Burst = 5;
    public const int MaxTrackedAddresses = 10_000;
    public static readonly TimeSpan RefillInterval = TimeSpan.FromSeconds(12);

    private static readonly IPAddress s_shared = IPAddress.IPv6None;
    private readonly Dictionary<IPAddress, Bucket> _buckets = [];
    private readonly Lock _lock = new();

    /// <summary>Whether the address has no failures left.</summary>
    public bool IsLimited(IPAddress? client)
    {
        lock (_lock)
        {
            return _buckets.TryGetValue(Key(client, create: false), out Bucket? bucket) && Refill(bucket, time.GetTimestamp()) < 1;
        }
    }

    /// <summary>Counts a failed authorization; returns true when it used the address's last allowed failure.</summary>
    public bool RecordFailure(IPAddress? client)
    {
        lock (_lock)
        {
            long now = time.GetTimestamp();
            IPAddress key = Key(client, create: true);
            if (!_buckets.TryGetValue(key, out Bucket? bucket))
            {
                bucket = new Bucket { Allowance = Burst, Last = now };
                _buckets[key] = bucket;
            }

            double allowance = Refill(bucket, now);
            bucket.Allowance = Math.Max(0, allowance - 1);
            return allowance >= 1 && bucket.Allowance < 1;
        }
    }

    private IPAddress Key(IPAddress? client, bool create)
    {
        if (client is null)
        {
            return s_shared;
        }

        IPAddress key = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        if (!create || _buckets.ContainsKey(key) || _buckets.Count < MaxTrackedAddresses)
        {
            return key;
        }

        long now = time.GetTimestamp();
        foreach ((IPAddress address, Bucket bucket) in _buckets.ToArray())
        {
            if (Refill(bucket, now) >= Burst)
            {
                _buckets.Remove(address);
            }
        }

        return _buckets.Count < MaxTrackedAddresses ? key : s_shared;
    }

    private double Refill(Bucket bucket, long now)
    {
        double elapsed = time.GetElapsedTime(bucket.Last, now).TotalSeconds;
        bucket.Allowance = Math.Min(Burst, bucket.Allowance + (elapsed / RefillInterval.TotalSeconds));
        bucket.Last = now;
        return bucket.Allowance;
    }

    private sealed class Bucket
    {
        public double Allowance { get; set; }

        public long Last { get; set; }
    }
}
