using System.Buffers;

namespace Mesh.Splicing;

/// <summary>
/// The buffers of the copy loops. A pool of its own rather than <see cref="ArrayPool{T}.Shared"/>: the shared pool keeps
/// arrays per thread and drops them on memory pressure, and a splice rents on one thread and returns on another after an
/// await, so it would keep reallocating; this one keeps up to <see cref="MaxRetainedPerSize"/> arrays of each size and
/// nothing per thread. What it retains is bounded by the busiest moment (buffers exist only while bytes move), not by
/// the number of connections.
/// </summary>
internal static class SpliceBuffers
{
    /// <summary>Arrays kept per size class once returned (64 KiB buffers: at most 16 MiB).</summary>
    public const int MaxRetainedPerSize = 256;

    public static ArrayPool<byte> Pool { get; } = ArrayPool<byte>.Create(maxArrayLength: 1024 * 1024, maxArraysPerBucket: MaxRetainedPerSize);
}
