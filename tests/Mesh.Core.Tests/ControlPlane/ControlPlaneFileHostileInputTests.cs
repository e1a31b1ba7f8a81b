using System.Text;
using Mesh.ControlPlane;
using Mesh.ControlPlane.File;
using Mesh.Identity;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Core.Tests.ControlPlane;

/// <summary>
/// Hostile and mistaken control-plane files: each is refused with <see cref="ControlPlaneFileException"/> (never another
/// exception type), and a reload that meets one, through <see cref="ControlPlaneFile.ReloadIfChanged"/> or the poll timer, keeps
/// the last good configuration.
/// </summary>
public sealed class ControlPlaneFileHostileInputTests
{
    private const string Valid = ControlPlaneFileTests.TwoDatacenters;

    private static readonly string LongName = new('n', 10_000);

    public static IEnumerable<TestCaseData> HostileFiles()
    {
        static TestCaseData Edit(string name, string find, string replace)
        {
            if (!Valid.Contains(find, StringComparison.Ordinal))
            {
                throw new ArgumentException($"the edit '{name}' does not apply", nameof(find));
            }

            return new TestCaseData(Encoding.UTF8.GetBytes(Valid.Replace(find, replace, StringComparison.Ordinal))).SetArgDisplayNames(name);
        }

        static TestCaseData Bytes(string name, string find, byte[] replace)
        {
            int at = Valid.IndexOf(find, StringComparison.Ordinal);
            if (at < 0)
            {
                throw new ArgumentException($"the edit '{name}' does not apply", nameof(find));
            }

            byte[] before = Encoding.UTF8.GetBytes(Valid[..at]);
            byte[] after = Encoding.UTF8.GetBytes(Valid[(at + find.Length)..]);
            return new TestCaseData((byte[])[.. before, .. replace, .. after]).SetArgDisplayNames(name);
        }

        static byte[] Utf8WithByte(string text, int at, byte value)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            bytes[at] = value;
            return bytes;
        }

        // Invalid UTF-8 in every kind of string the file holds.
        yield return Bytes("invalid UTF-8 in an intention source name", "{ \"Name\": \"dashboard\", \"Action\"", Utf8WithByte("{ \"Name\": \"dashboard\", \"Action\"", 14, 0xFF));
        yield return Bytes("invalid UTF-8 in an intention destination", "\"Name\": \"counting\", \"Sources\"", Utf8WithByte("\"Name\": \"counting\", \"Sources\"", 11, 0xC3));
        yield return Bytes("invalid UTF-8 in an intention action", "\"Action\": \"allow\"", Utf8WithByte("\"Action\": \"allow\"", 13, 0x80));
        yield return Bytes("invalid UTF-8 in an intention key", "\"Action\": \"allow\"", Utf8WithByte("\"Action\": \"allow\"", 3, 0xFE));
        yield return Bytes("invalid UTF-8 in a service name", "\"Name\": \"dashboard\", \"Datacenter\"", Utf8WithByte("\"Name\": \"dashboard\", \"Datacenter\"", 12, 0xFF));
        yield return Bytes("invalid UTF-8 in a service key", "\"Status\": \"critical\"", Utf8WithByte("\"Status\": \"critical\"", 2, 0xFF));
        yield return Bytes("invalid UTF-8 in the trust domain", "555555555555.consul", Utf8WithByte("555555555555.consul", 3, 0xF8));
        yield return Bytes("invalid UTF-8 in a Meta value", "\"Status\": \"critical\"", Encoding.UTF8.GetBytes("\"Meta\": { \"v\": \"a\u00FFb\" }, \"Status\": \"critical\"").Select(b => b == 0xBF ? (byte)0xFF : b).ToArray());
        yield return Bytes("an overlong UTF-8 encoding in an intention", "\"dashboard\", \"Action\"", [.. "\"dash"u8, 0xC0, 0xAF, .. "board\", \"Action\""u8]);
        yield return Bytes("a lone surrogate escape in an intention", "\"dashboard\", \"Action\"", "\"dash\\uD800board\", \"Action\""u8.ToArray());
        yield return Bytes("a lone surrogate escape in a service name", "\"Name\": \"dashboard\", \"Datacenter\"", "\"Name\": \"dash\\uDC00board\", \"Datacenter\""u8.ToArray());
        yield return Bytes("a NUL byte in a service name", "\"Name\": \"dashboard\", \"Datacenter\"", [.. "\"Name\": \"dash"u8, 0x00, .. "board\", \"Datacenter\""u8]);

        // Nulls and wrong shapes where an object or string is expected.
        yield return Edit("a null service", "\"Services\": [", "\"Services\": [ null,");
        yield return Edit("a null datacenter", "\"Datacenters\": [", "\"Datacenters\": [ null,");
        yield return Edit("a null mesh gateway", "\"MeshGateways\": [ {", "\"MeshGateways\": [ null, {");
        yield return Edit("a null upstream", "\"Upstreams\": [", "\"Upstreams\": [ null,");
        yield return Edit("a null Meta value", "\"Status\": \"critical\"", "\"Meta\": { \"version\": null }, \"Status\": \"critical\"");
        yield return Edit("intentions are a number", "\"Intentions\": [", "\"Intentions\": 5, \"X\": [");
        yield return Edit("intentions are a string", "\"Intentions\": [", "\"Intentions\": \"all\", \"X\": [");
        yield return Edit("intentions hold a number", "\"Intentions\": [", "\"Intentions\": [ 5, ");
        yield return Edit("intentions hold an array", "\"Intentions\": [", "\"Intentions\": [ [], ");
        yield return Edit("an empty intentions object", "\"Intentions\": [", "\"Intentions\": {}, \"X\": [");
        yield return Edit("a null source", "\"Sources\": [", "\"Sources\": [ null, ");
        yield return Edit("a null permission", "{ \"Name\": \"dashboard\", \"Action\": \"allow\" }", "{ \"Name\": \"dashboard\", \"Permissions\": [ null ] }");
        yield return Edit("a null method", "{ \"Name\": \"dashboard\", \"Action\": \"allow\" }", "{ \"Name\": \"dashboard\", \"Permissions\": [ { \"Action\": \"allow\", \"HTTP\": { \"Methods\": [ null ] } } ] }");
        yield return Edit("a null header", "{ \"Name\": \"dashboard\", \"Action\": \"allow\" }", "{ \"Name\": \"dashboard\", \"Permissions\": [ { \"Action\": \"allow\", \"HTTP\": { \"Header\": [ null ] } } ] }");
        yield return Edit("a JWT block that is a number", "\"Sources\": [", "\"JWT\": 5, \"Sources\": [");
        yield return Edit("the trust domain is a number", "\"TrustDomain\": \"11111111-2222-3333-4444-555555555555.consul\"", "\"TrustDomain\": 5");
        yield return Edit("a port that overflows", "\"Port\": 9003, \"Status\"", "\"Port\": 99999999999999999999, \"Status\"");
        yield return Edit("a port as a string", "\"Port\": 9003, \"Status\"", "\"Port\": \"9003\", \"Status\"");
        yield return Edit("a fractional port", "\"Port\": 9003, \"Status\"", "\"Port\": 9003.5, \"Status\"");
        yield return Edit("deep nesting in intentions", "\"Intentions\": [", "\"Intentions\": [" + new string('[', 500) + new string(']', 500) + ",");
        yield return Edit("deep nesting in a service", "\"Status\": \"critical\"", "\"Meta\": " + new string('[', 500) + new string(']', 500) + ", \"Status\": \"critical\"");
        yield return Edit("duplicate Intentions keys, the second invalid", "\"Intentions\": [", "\"Intentions\": [], \"intentions\": [ 5 ], \"X\": [");

        // Whole-document oddities.
        yield return new TestCaseData(Array.Empty<byte>()).SetArgDisplayNames("an empty file");
        yield return new TestCaseData("   \n\t "u8.ToArray()).SetArgDisplayNames("only white space");
        yield return new TestCaseData("null"u8.ToArray()).SetArgDisplayNames("the JSON null");
        yield return new TestCaseData("[]"u8.ToArray()).SetArgDisplayNames("an array");
        yield return new TestCaseData(new byte[] { 0xEF, 0xBB, 0xBF }).SetArgDisplayNames("only a byte-order mark");
        yield return new TestCaseData(new byte[] { 0xFF, 0xFE, 0x7B, 0x00 }).SetArgDisplayNames("UTF-16");
        yield return new TestCaseData(Encoding.UTF8.GetBytes(Valid + "}")).SetArgDisplayNames("trailing garbage");
        yield return new TestCaseData(Encoding.UTF8.GetBytes(Valid[..(Valid.Length / 2)])).SetArgDisplayNames("half a file");

        // Consul's limits.
        yield return Edit("65 Meta pairs on a service", "\"Status\": \"critical\"",
            "\"Meta\": {" + string.Join(",", Enumerable.Range(0, 65).Select(i => $"\"k{i}\": \"v\"")) + "}, \"Status\": \"critical\"");
        yield return Edit("a Meta key of 129 characters", "\"Status\": \"critical\"", $"\"Meta\": {{ \"{new string('k', 129)}\": \"v\" }}, \"Status\": \"critical\"");
        yield return Edit("a Meta value of 513 characters", "\"Status\": \"critical\"", $"\"Meta\": {{ \"k\": \"{new string('v', 513)}\" }}, \"Status\": \"critical\"");
        yield return Edit("an empty Meta key", "\"Status\": \"critical\"", "\"Meta\": { \"\": \"v\" }, \"Status\": \"critical\"");
        yield return Edit("a path regex above RE2's program size", "{ \"Name\": \"dashboard\", \"Action\": \"allow\" }",
            "{ \"Name\": \"dashboard\", \"Permissions\": [ { \"Action\": \"allow\", \"HTTP\": { \"PathRegex\": \"/.*a.{200}\" } } ] }");
        yield return Edit("a repeat count above 1000", "{ \"Name\": \"dashboard\", \"Action\": \"allow\" }",
            "{ \"Name\": \"dashboard\", \"Permissions\": [ { \"Action\": \"allow\", \"HTTP\": { \"PathRegex\": \"/a{1001}\" } } ] }");
        yield return Edit("an upper-case action", "\"Action\": \"allow\"", "\"Action\": \"ALLOW\"");
        yield return Edit("a peered source in a partition", "{ \"Name\": \"dashboard\", \"Action\": \"allow\" }", "{ \"Name\": \"dashboard\", \"Peer\": \"east\", \"Partition\": \"ap1\", \"Action\": \"allow\" }");
        yield return Edit("a 10 KB service name", "\"Name\": \"dashboard\", \"Datacenter\"", $"\"Name\": \"{LongName}\", \"Datacenter\"");
        yield return Edit("a 10 KB intention name", "{ \"Name\": \"dashboard\", \"Action\"", $"{{ \"Name\": \"{LongName}\", \"Action\"");
        yield return Edit("a 10 KB unknown key", "\"Status\": \"critical\"", $"\"{LongName}\": 1, \"Status\": \"critical\"");
    }

    [TestCaseSource(nameof(HostileFiles))]
    public void Parsing_refuses_with_the_documented_exception_only(byte[] json)
    {
        Assert.Throws<ControlPlaneFileException>(() => ControlPlaneConfiguration.Parse(json, "hostile.json"));
    }

    [TestCaseSource(nameof(HostileFiles))]
    public void Loading_and_opening_refuse_with_the_documented_exception_only(byte[] json)
    {
        using var file = new TempFile(json);
        Assert.Throws<ControlPlaneFileException>(() => ControlPlaneConfiguration.Load(file.Path));
        Assert.Throws<ControlPlaneFileException>(() => ControlPlaneFile.Open(file.Path, TimeSpan.Zero).Dispose());
    }

    [TestCaseSource(nameof(HostileFiles))]
    public void A_reload_that_meets_it_keeps_the_last_good_configuration(byte[] json)
    {
        using var file = new TempFile(Encoding.UTF8.GetBytes(Valid));
        using ControlPlaneFile controlPlane = ControlPlaneFile.Open(file.Path, TimeSpan.Zero);
        ControlPlaneConfiguration good = controlPlane.Configuration;

        file.Replace(json, secondsLater: 5);
        Assert.That(controlPlane.ReloadIfChanged(), Is.False);
        Assert.Multiple(() =>
        {
            Assert.That(controlPlane.Configuration, Is.SameAs(good));
            Assert.That(controlPlane.GetHealthyEndpoints(new ServiceName("counting"), "dc2"), Has.Count.EqualTo(1));
            Assert.That(((IIntentionSource)controlPlane).Current.Decide(new ServiceName("dashboard"), new ServiceName("counting")).IsAllowed, Is.True);
        });
    }

    [TestCaseSource(nameof(HostileFiles))]
    public void The_poll_timer_survives_it_and_keeps_the_last_good_configuration(byte[] json)
    {
        using var file = new TempFile(Encoding.UTF8.GetBytes(Valid));
        var clock = new ManualTimerProvider();
        using ControlPlaneFile controlPlane = ControlPlaneFile.Open(file.Path, TimeSpan.FromSeconds(1), clock, NullLogger.Instance);
        ControlPlaneConfiguration good = controlPlane.Configuration;

        file.Replace(json, secondsLater: 5);
        Assert.DoesNotThrow(clock.Fire, "an exception escaping a timer callback ends the process");
        Assert.That(controlPlane.Configuration, Is.SameAs(good));
    }

    [TestCaseSource(nameof(HostileFiles))]
    public void The_message_quotes_no_more_than_100_characters_of_a_value(byte[] json)
    {
        var ex = Assert.Throws<ControlPlaneFileException>(() => ControlPlaneConfiguration.Parse(json, "hostile.json"))!;
        Assert.That(ex.Message, Does.Not.Contain(new string('n', 101)).And.Not.Contain(new string('k', 101)).And.Not.Contain(new string('v', 101)));
        Assert.That(ex.Message.Length, Is.LessThan(1500), ex.Message);
    }

    [Test]
    public void A_10_KB_name_is_quoted_once_and_clipped()
    {
        string json = Valid.Replace("{ \"Name\": \"dashboard\", \"Action\"", $"{{ \"Name\": \"{LongName}\", \"Action\"", StringComparison.Ordinal);
        var ex = Assert.Throws<ControlPlaneFileException>(() => ControlPlaneConfiguration.Parse(Encoding.UTF8.GetBytes(json), "hostile.json"))!;
        string quoted = new('n', 100);
        int first = ex.Message.IndexOf(quoted, StringComparison.Ordinal);
        Assert.That(first, Is.GreaterThanOrEqualTo(0), ex.Message);
        Assert.That(ex.Message.IndexOf(quoted, first + 100, StringComparison.Ordinal), Is.EqualTo(-1), ex.Message);
    }

    [Test]
    public void Comments_inside_the_intentions_are_skipped_as_everywhere_else_in_the_file()
    {
        string json = Valid
            .Replace("\"Sources\": [", "\"Sources\": [ // who may call\n", StringComparison.Ordinal)
            .Replace("\"Action\": \"allow\" }", "\"Action\": /* for now */ \"allow\" }", StringComparison.Ordinal);
        ControlPlaneConfiguration config = ControlPlaneConfiguration.Parse(Encoding.UTF8.GetBytes(json), "commented.json");
        Assert.That(config.Intentions.Decide(new ServiceName("dashboard"), new ServiceName("counting")).IsAllowed, Is.True);
    }

    [Test]
    public void A_file_above_the_size_cap_is_refused_before_it_is_parsed()
    {
        // Valid JSON padded with white space: only the cap can refuse it.
        byte[] padded = Encoding.UTF8.GetBytes(Valid + new string(' ', 4096));
        using var file = new TempFile(padded);
        Assert.That(ControlPlaneConfiguration.Load(file.Path).Services, Has.Count.EqualTo(3), "under the default cap it loads");

        var ex = Assert.Throws<ControlPlaneFileException>(() => ControlPlaneConfiguration.Load(file.Path, maxFileBytes: 4096))!;
        Assert.That(ex.Message, Does.Contain("4096"));
        Assert.Throws<ControlPlaneFileException>(() => ControlPlaneFile.Open(file.Path, TimeSpan.Zero, maxFileBytes: 4096, TimeProvider.System, NullLogger.Instance).Dispose());
        Assert.That(ControlPlaneConfiguration.DefaultMaxFileBytes, Is.EqualTo(64L * 1024 * 1024));
    }

    [Test]
    public void A_reload_above_the_size_cap_keeps_the_last_good_configuration()
    {
        using var file = new TempFile(Encoding.UTF8.GetBytes(Valid));
        using ControlPlaneFile controlPlane = ControlPlaneFile.Open(file.Path, TimeSpan.Zero, maxFileBytes: Valid.Length + 100, TimeProvider.System, NullLogger.Instance);
        ControlPlaneConfiguration good = controlPlane.Configuration;
        file.Replace(Encoding.UTF8.GetBytes(Valid + new string(' ', 200)), secondsLater: 5);
        Assert.That(controlPlane.ReloadIfChanged(), Is.False);
        Assert.That(controlPlane.Configuration, Is.SameAs(good));
    }

    [Test]
    public void A_missing_file_or_a_directory_is_refused_with_the_documented_exception()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"mesh-cp-missing-{Guid.NewGuid():N}.json");
        Assert.Throws<ControlPlaneFileException>(() => ControlPlaneConfiguration.Load(missing));
        Assert.Throws<ControlPlaneFileException>(() => ControlPlaneConfiguration.Load(Path.GetTempPath()));
        Assert.Throws<ControlPlaneFileException>(() => ControlPlaneFile.Open(missing, TimeSpan.Zero).Dispose());
    }

    [Test]
    public void Every_mutation_of_a_valid_file_loads_or_is_refused_with_the_documented_exception()
    {
        byte[] original = Encoding.UTF8.GetBytes(Valid.Replace(
            "{ \"Name\": \"dashboard\", \"Action\": \"allow\" }",
            "{ \"Name\": \"dashboard\", \"Permissions\": [ { \"Action\": \"allow\", \"HTTP\": { \"path_prefix\": \"/v1\", \"Methods\": [\"GET\"], \"Header\": [ { \"Name\": \"x-t\", \"Regex\": \"[a-z]{1,8}\" } ] } } ] }",
            StringComparison.Ordinal));
        Assert.That(ControlPlaneConfiguration.Parse(original, "valid.json").Intentions.Count, Is.EqualTo(1));

        var random = new Random(17);
        byte[] alphabet = Encoding.ASCII.GetBytes("{}[]\":,_*/\\.0a-Z \n{9}");
        int loaded = 0;
        for (int i = 0; i < 4000; i++)
        {
            byte[] mutated = (byte[])original.Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--)
            {
                int at = random.Next(mutated.Length);
                mutated[at] = random.Next(3) switch
                {
                    0 => (byte)random.Next(256),
                    1 => (byte)(0x80 | random.Next(0x80)),
                    _ => alphabet[random.Next(alphabet.Length)],
                };
            }

            try
            {
                ControlPlaneConfiguration.Parse(mutated, "mutated.json");
                loaded++;
            }
            catch (ControlPlaneFileException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} escaped as {e.GetType().Name}: {e.Message}\n{Encoding.UTF8.GetString(mutated)}");
            }
        }

        Assert.That(loaded, Is.GreaterThan(0), "some mutations (in white space, in values) still load");
    }

    private sealed class TempFile : IDisposable
    {
        public TempFile(byte[] content)
        {
            System.IO.File.WriteAllBytes(Path, content);
            System.IO.File.SetLastWriteTimeUtc(Path, DateTime.UtcNow);
        }

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"mesh-cp-{Guid.NewGuid():N}.json");

        public void Replace(byte[] content, int secondsLater)
        {
            System.IO.File.WriteAllBytes(Path, content);
            System.IO.File.SetLastWriteTimeUtc(Path, DateTime.UtcNow.AddSeconds(secondsLater));
        }

        public void Dispose() => System.IO.File.Delete(Path);
    }

    /// <summary>A clock whose one timer fires only when the test says so, on the test's thread.</summary>
    private sealed class ManualTimerProvider : TimeProvider
    {
        private TimerCallback? _callback;
        private object? _state;

        public void Fire() => _callback!(_state);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _callback = callback;
            _state = state;
            return new IdleTimer();
        }

        private sealed class IdleTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
