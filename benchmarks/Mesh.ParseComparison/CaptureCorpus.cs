using System.Text.Json;

namespace Mesh.ParseComparison;

/// <summary>The repository's ClientHello captures (tests/Corpus/clienthello), found from where the tool runs.</summary>
internal static class CaptureCorpus
{
    /// <summary>The corpus directory: the first tests/Corpus/clienthello above the tool's own directory.</summary>
    public static string Locate()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "Corpus", "clienthello");
            if (File.Exists(Path.Combine(candidate, "manifest.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/Corpus/clienthello was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The captures in one record of at most 1 KB, the hellos the parse goal is set for.</summary>
    public static string[] OneRecordCaptures(string corpus)
    {
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(corpus, "manifest.json")));
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
