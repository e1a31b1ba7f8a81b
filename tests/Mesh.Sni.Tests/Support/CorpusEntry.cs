namespace Mesh.Sni.Tests.Support;

/// <summary>One capture of tests/Corpus/clienthello with its manifest entry (the ground truth tshark recorded).</summary>
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
