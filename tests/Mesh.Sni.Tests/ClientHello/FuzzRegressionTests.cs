using Mesh.Sni.ClientHello;
using Mesh.Sni.Tests.Support;

namespace Mesh.Sni.Tests.ClientHello;

/// <summary>
/// Inputs kept from fuzzing and from bugs found on the way: each file is named <c>&lt;expected status&gt;-&lt;what&gt;.bin</c> and
/// must give that status, never throw, and give the same answer in every segmentation.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static IEnumerable<TestCaseData> Inputs() =>
        Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "ClientHello", "FuzzRegressions"), "*.bin")
            .Order(StringComparer.Ordinal)
            .Select(path => new TestCaseData(path).SetArgDisplayNames(Path.GetFileName(path)));

    [TestCaseSource(nameof(Inputs))]
    public void Kept_input_gives_its_status_in_every_segmentation(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var expected = Enum.Parse<ClientHelloParseStatus>(Path.GetFileName(path).Split('-')[0]);

        // The first such input read the handshake type before its byte had arrived: run it on a dirtied stack too.
        DirtyTheStack();
        Assert.That(ClientHelloParser.Parse(bytes, out _), Is.EqualTo(expected));
        string whole = HelloSummary.Of(bytes);
        for (int at = 1; at < bytes.Length; at++)
        {
            Assert.That(HelloSummary.Of(Segments.SplitAt(bytes, at)), Is.EqualTo(whole), $"split at {at}");
        }

        Assert.That(HelloSummary.Of(Segments.Every(bytes, 1)), Is.EqualTo(whole));
    }

    private static int DirtyTheStack()
    {
        Span<byte> junk = stackalloc byte[4096];
        junk.Fill(0xEE);
        return junk[100];
    }
}
