using System.Buffers;

namespace Mesh.Benchmarks.Sni;

/// <summary>
/// The real ClientHello captures the repository carries in tests/Corpus/clienthello (found from the repository root, the folder
/// holding Mesh.Core.sln), and segmented copies of them.
/// </summary>
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

    /// <summary>The corpus folder, holding each capture and manifest.json.</summary>
    public static string Location => Folder.Value;

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
        // BenchmarkDotNet may run the benchmarks from a generated project below bin/: every such folder is still inside the
        // repository, so walking up always reaches its root.
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.Core.sln")))
            {
                string corpus = Path.Combine(dir.FullName, "tests", "Corpus", "clienthello");
                return File.Exists(Path.Combine(corpus, "manifest.json"))
                    ? corpus
                    : throw new InvalidOperationException($"The ClientHello corpus is missing: {corpus}/manifest.json does not exist. Restore tests/Corpus/clienthello from git.");
            }
        }

        throw new InvalidOperationException($"The repository root (the folder holding Mesh.Core.sln) was not found above {AppContext.BaseDirectory}.");
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
