using System.Buffers;

namespace Mesh.Sni.Tests.Support;

/// <summary>Builds multi-segment sequences, as a PipeReader delivers TCP data.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Every(byte[] data, int size)
    {
        var sizes = new List<int>();
        for (int offset = 0; offset < data.Length; offset += size)
        {
            sizes.Add(Math.Min(size, data.Length - offset));
        }

        return Split(data, [.. sizes]);
    }

    public static ReadOnlySequence<byte> SplitAt(byte[] data, int at) => Split(data, [at, data.Length - at]);

    public static ReadOnlySequence<byte> Split(byte[] data, int[] sizes)
    {
        Chunk? first = null;
        Chunk? last = null;
        int offset = 0;
        foreach (int size in sizes)
        {
            // Each segment is its own array, so reading past a segment's end would show garbage, not the next bytes.
            byte[] copy = new byte[size + 16];
            Array.Fill(copy, (byte)0xEE);
            data.AsSpan(offset, size).CopyTo(copy);
            var chunk = new Chunk(copy.AsMemory(0, size), offset);
            offset += size;
            if (first is null)
            {
                first = chunk;
            }
            else
            {
                last!.SetNext(chunk);
            }

            last = chunk;
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Chunk next) => Next = next;
    }
}
