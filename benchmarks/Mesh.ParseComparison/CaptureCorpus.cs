using System.Text.Json;
using Mesh.Benchmarks.Sni;

namespace Mesh.ParseComparison;

/// <summary>Which of the repository's ClientHello captures (<see cref="SniCorpus"/>) the parse goal is set for.</summary>
internal static class CaptureCorpus
{
    /// <summary>The captures in one record of at most 1 KB, by the corpus manifest.</summary>
    public static string[] OneRecordCaptures()
    {
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(SniCorpus.Location, "manifest.json")));
        var names = new List<string>();
        foreach (JsonElement entry in manifest.RootElement.GetProperty("entries").EnumerateArray())
        {
            if (entry.GetProperty("record_count").GetInt32() == 1 && entry.GetProperty("size_bytes").GetInt32() <= 1024)
            {
                names.Add(Path.GetFileNameWithoutExtension(entry.GetProperty("file").GetString()!));
            }
        }

        return [.. names];
    }
}
