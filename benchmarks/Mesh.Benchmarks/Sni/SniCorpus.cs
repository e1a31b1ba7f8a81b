using System.Buffers;

namespace Mesh.Benchmarks.Sni;

/// <summary>The real ClientHello captures in ../shared/corpus/clienthello, read in place, and segmented copies of them.</summary>
public static class SniCorpus
{
    private static readonly Lazy<string> Folder = new(Locate);

    /// <summary>Every capture, or the comma-separated names in <c>MESH_SNI_CAPTURES</c> for a quicker run.</summary>
    public static IEnumerable<string> Captures()
    {
        IEnumerable<string> all = Directory.EnumerateFiles(Folder.Value, "*.bin").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal)!;
        string? only = Environment.GetEnvironmentVariable("MESH_SNI_CAPTURES");
        return string.IsNullOrEmpty(only) ? all : all.Where(only.Split(',').Contains);
    }

    public static byte[] Read(string capture) => File.ReadAllBytes(Path.Combine(Folder.Value, capture + ".bin"));

    /// <summary>The bytes in segments of <paramref name="size"/>, each in its own array, as a PipeReader can hand them over.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] data, int size)
    {
        Segment? first = null;
        Segment? last = null;
        for (int offset = 0; offset < data.Length; offset += size)
        {
            int n = Math.Min(size, data.Length - offset);
            var segment = new Segment(data.AsSpan(offset, n).ToArray(), offset);
            if (first is null)
            {
                first = segment;
            }
            else
            {
                last!.SetNext(segment);
            }

            last = segment;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private static string Locate()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (string candidate in new[] { Path.Combine(dir.FullName, "shared"), Path.Combine(dir.FullName, "..", "shared") })
            {
                string corpus = Path.Combine(candidate, "corpus", "clienthello");
                if (File.Exists(Path.Combine(corpus, "manifest.json")))
                {
                    return Path.GetFullPath(corpus);
                }
            }
        }

        throw new InvalidOperationException($"shared/corpus/clienthello was not found above {AppContext.BaseDirectory} or beside it (../shared).");
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
