using System.Buffers;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Tests.Support;
using static Mesh.Sni.Tests.Support.HelloBuilder;

namespace Mesh.Sni.Tests.ClientHello;

/// <summary>
/// RFC 8446 §4.2.11: "The "pre_shared_key" extension MUST be the last extension in the ClientHello (this facilitates
/// implementation as described below). Servers MUST check that it is the last extension and otherwise fail the handshake
/// with an "illegal_parameter" alert."
/// </summary>
public sealed class ClientHelloPreSharedKeyTests
{
    /// <summary>A pre_shared_key (41) with one identity and one binder: its content is not parsed, only its place.</summary>
    private static byte[] PreSharedKey =>
        Extension(41, Concat(Vec16(Vec16(Ascii("ticket")), U8(0), U8(0), U8(0), U8(1)), Vec16(Vec8(new byte[32]))));

    private static byte[] PskKeyExchangeModes => Extension(45, Vec8(U8(1)));

    private static IEnumerable<TestCaseData> NotLast()
    {
        TestCaseData Case(string name, byte[] body) => new TestCaseData(Hello(body)).SetArgDisplayNames(name);

        yield return Case("before one other", Body(Extensions(ServerName("a.b"), PreSharedKey, PskKeyExchangeModes)));
        yield return Case("first of four", Body(Extensions(PreSharedKey, ServerName("a.b"), Alpn("h2"), SupportedVersions(0x0304))));
        yield return Case("before an empty extension", Body(Extensions(ServerName("a.b"), PreSharedKey, Extension(0x0a0a, []))));
        yield return Case("before a high type", Body(Extensions(ServerName("a.b"), PreSharedKey, Extension(0xfe0d, [1, 2, 3]))));
        yield return Case("empty, before others", Body(Extensions(Extension(41, []), ServerName("a.b"))));
        yield return Case("among 200", Body(Extensions([ServerName("a.b"), .. Enumerable.Range(1000, 100).Select(t => Extension(t, [])),
            PreSharedKey, .. Enumerable.Range(2000, 100).Select(t => Extension(t, []))])));
    }

    [TestCaseSource(nameof(NotLast))]
    public void Pre_shared_key_before_another_extension_is_invalid_at_every_split_point(byte[] bytes)
    {
        Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Invalid));
        Assert.That(hello.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.PreSharedKeyNotLast));
        Assert.That(hello.HasServerName, Is.False, "an invalid hello names no server");

        for (int at = 1; at < bytes.Length; at++)
        {
            Assert.That(ClientHelloParser.Parse(Segments.SplitAt(bytes, at), out ClientHelloInfo split), Is.EqualTo(ClientHelloParseStatus.Invalid), $"split at {at}");
            Assert.That(split.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.PreSharedKeyNotLast), $"split at {at}");
        }

        foreach (int size in (int[])[1, 3, 64])
        {
            Assert.That(ClientHelloParser.Parse(Segments.Every(bytes, size), out ClientHelloInfo again), Is.EqualTo(ClientHelloParseStatus.Invalid), $"{size}-byte segments");
            Assert.That(again.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.PreSharedKeyNotLast), $"{size}-byte segments");
        }

        // Records split the message too: a hello of many fragments walks its extensions through the reader.
        byte[] fragmented = Records(Handshake(bytes[9..]), fragment: 7);
        Assert.That(ClientHelloParser.Parse(fragmented, out ClientHelloInfo records), Is.EqualTo(ClientHelloParseStatus.Invalid));
        Assert.That(records.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.PreSharedKeyNotLast));
    }

    private static IEnumerable<TestCaseData> Last()
    {
        TestCaseData Case(string name, byte[] body) => new TestCaseData(Hello(body)).SetArgDisplayNames(name);

        yield return Case("after a resumption's usual extensions", Body(Extensions(ServerName("a.b"), PskKeyExchangeModes, SupportedVersions(0x0304), PreSharedKey)));
        yield return Case("the only extension", Body(Extensions(PreSharedKey)));
        yield return Case("after 200", Body(Extensions([ServerName("a.b"), .. Enumerable.Range(1000, 200).Select(t => Extension(t, [])), PreSharedKey])));
    }

    [TestCaseSource(nameof(Last))]
    public void Pre_shared_key_as_the_last_extension_is_accepted_at_every_split_point(byte[] bytes)
    {
        Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete));
        int count = hello.ExtensionCount;
        for (int at = 1; at < bytes.Length; at++)
        {
            Assert.That(ClientHelloParser.Parse(Segments.SplitAt(bytes, at), out ClientHelloInfo split), Is.EqualTo(ClientHelloParseStatus.Complete), $"split at {at}");
            Assert.That(split.ExtensionCount, Is.EqualTo(count), $"split at {at}");
        }

        Assert.That(ClientHelloParser.Parse(Segments.Every(bytes, 1), out _), Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That(ClientHelloParser.Parse(Records(Handshake(bytes[9..]), fragment: 7), out _), Is.EqualTo(ClientHelloParseStatus.Complete));
    }

    [Test]
    public void A_hello_without_pre_shared_key_is_unaffected()
    {
        byte[] typical = Hello(TypicalBody());
        Assert.That(ClientHelloParser.Parse(typical, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That(hello.ExtensionCount, Is.EqualTo(4));
        Assert.That(ClientHelloParser.Parse(new ReadOnlySequence<byte>(typical), out _), Is.EqualTo(ClientHelloParseStatus.Complete));
    }
}
