using System.Text.Json;

namespace Mesh.Sni.Tests.Support;

/// <summary>
/// The real ClientHello captures the repository carries in tests/Corpus/clienthello (every capture and its manifest), found by
/// walking up from the test assembly to the repository root, the folder that holds Mesh.Core.sln.
/// </summary>
internal static class ClientHelloCorpus
{
    private static readonly Lazy<string> Folder = new(Locate);

    public static string ClientHelloFolder => Folder.Value;

    public static IReadOnlyList<CorpusEntry> Entries { get; } = Load();

    private static string Locate()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mesh.Core.sln")))
            {
                string corpus = Path.Combine(dir.FullName, "tests", "Corpus", "clienthello");
                return File.Exists(Path.Combine(corpus, "manifest.json"))
                    ? corpus
                    : throw new InvalidOperationException(
                        $"The ClientHello corpus is missing from the repository: {corpus}/manifest.json does not exist. Restore tests/Corpus/clienthello from git.");
            }
        }

        throw new InvalidOperationException(
            $"The repository root (the folder holding Mesh.Core.sln) was not found above {AppContext.BaseDirectory}; run the tests from a checkout of the repository.");
    }

    private static List<CorpusEntry> Load()
    {
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(ClientHelloFolder, "manifest.json")));
        var entries = new List<CorpusEntry>();
        foreach (JsonElement e in manifest.RootElement.GetProperty("entries").EnumerateArray())
        {
            entries.Add(new CorpusEntry(
                e.GetProperty("file").GetString()!,
                File.ReadAllBytes(Path.Combine(ClientHelloFolder, e.GetProperty("file").GetString()!)),
                e.GetProperty("size_bytes").GetInt32(),
                [.. e.GetProperty("sni_host_names").EnumerateArray().Select(x => x.GetString()!)],
                [.. e.GetProperty("alpn_protocols").EnumerateArray().Select(x => x.GetString()!)],
                Hex(e.GetProperty("legacy_version").GetString()!),
                [.. e.GetProperty("supported_versions").EnumerateArray().Select(x => Hex(x.GetString()!))],
                e.GetProperty("cipher_suite_count").GetInt32(),
                [.. e.GetProperty("extension_types").EnumerateArray().Select(x => (ushort)x.GetInt32())],
                e.GetProperty("record_count").GetInt32(),
                e.GetProperty("handshake_message_length").GetInt32()));
        }

        return entries;
    }

    private static ushort Hex(string value) => Convert.ToUInt16(value, 16);
}
