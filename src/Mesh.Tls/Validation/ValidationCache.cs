using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Mesh.Identity;

namespace Mesh.Tls.Validation;

/// <summary>
/// Successful validations, keyed on the SHA-256 of the leaf's DER and the bundle version (so removing a root takes effect at once),
/// each expiring with the earliest NotAfter of its path. Bounded: when full, expired entries go first, then everything.
/// A hit allocates nothing.
/// </summary>
internal sealed class ValidationCache
{
    private readonly ConcurrentDictionary<Key, Entry> _entries = new();
    private readonly int _capacity;
    private int _count;

    public ValidationCache(int capacity) => _capacity = capacity;

    public int Count => Volatile.Read(ref _count);

    public static Key CreateKey(ReadOnlySpan<byte> certificateDer, long bundleVersion)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(certificateDer, hash);
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(hash);
        return new Key(words[0], words[1], words[2], words[3], bundleVersion);
    }

    public bool TryGet(in Key key, DateTimeOffset now, out SpiffeId id)
    {
        if (_capacity > 0 && _entries.TryGetValue(key, out Entry? entry) && now < entry.Expires && now >= entry.NotBefore)
        {
            id = entry.Id;
            return true;
        }

        id = default;
        return false;
    }

    public void Add(in Key key, SpiffeId id, DateTimeOffset notBefore, DateTimeOffset expires, DateTimeOffset now)
    {
        if (_capacity <= 0)
        {
            return;
        }

        if (Volatile.Read(ref _count) >= _capacity)
        {
            foreach (KeyValuePair<Key, Entry> pair in _entries)
            {
                if (pair.Value.Expires <= now && _entries.TryRemove(pair.Key, out _))
                {
                    Interlocked.Decrement(ref _count);
                }
            }

            if (Volatile.Read(ref _count) >= _capacity)
            {
                _entries.Clear();
                Volatile.Write(ref _count, 0);
            }
        }

        if (_entries.TryAdd(key, new Entry(id, notBefore, expires)))
        {
            Interlocked.Increment(ref _count);
        }
    }

    internal readonly record struct Key(ulong A, ulong B, ulong C, ulong D, long Version);

    private sealed record Entry(SpiffeId Id, DateTimeOffset NotBefore, DateTimeOffset Expires);
}
