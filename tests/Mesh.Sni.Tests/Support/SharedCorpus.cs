using System.Text.Json;

namespace Mesh.Sni.Tests.Support;

/// <summary>The ClientHello captures in ../shared/corpus/clienthello, read where they are (never copied into the repository).</summary>
internal static class SharedCorpus
{
    private static readonly Lazy<string> Folder = new(Locate);

    public static string ClientHelloFolder => Folder.Value;

    public static IReadOnlyList<CorpusEntry> Entries { get; } = Load();

    private static string Locate()
    {
        // Walk up from the test assembly: the repository root (a worktree) sits beside ../shared.
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

        throw new InvalidOperationException(
            $"The ClientHello corpus was not found: looked for shared/corpus/clienthello/manifest.json in every folder above {AppContext.BaseDirectory} " +
            "and beside it (../shared). Check out the shared corpus next to the repository.");
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

public sealed record CorpusEntry(
    string File,
    byte[] Bytes,
    int SizeBytes,
    string[] SniHostNames,
    string[] AlpnProtocols,
    ushort LegacyVersion,
    ushort[] SupportedVersions,
    int CipherSuiteCount,
    ushort[] ExtensionTypes,
    int RecordCount,
    int HandshakeMessageLength)
{
    public override string ToString() => File;
}
