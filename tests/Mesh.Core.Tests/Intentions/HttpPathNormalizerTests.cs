using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

public sealed class HttpPathNormalizerTests
{
    [Test]
    public void Normalises_like_envoy_with_consul_path_settings()
    {
        (string Input, string? Expected)[] vectors =
        [
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("/a/./b", "/a/b"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/admin/../v1", "/v1"),
            ("/..", "/"),
            ("/../../etc", "/etc"),
            ("//admin", "/admin"),
            ("/a//b///c", "/a/b/c"),
            ("/%2e%2e/admin", "/admin"),
            ("/%2E/a", "/a"),
            ("/a%2Fb", "/a/b"),
            ("/a%2f..%2fb", "/b"),
            ("/a\\b", "/a/b"),
            ("/a%5Cb", "/a/b"),
            ("/%7euser", "/~user"),
            ("/%41%62", "/Ab"),
            ("/a%20b", "/a%20b"),
            ("/a%3fb", "/a%3Fb"),
            ("/a?x=../y", "/a"),
            ("/a#../b", "/a"),
            ("/a..b/..c", "/a..b/..c"),
            ("/a%zz", null),
            ("/a%4", null),
            ("/a%", null),
            ("a/b", null),
            ("", null),
            ("?x", null),
        ];

        foreach ((string input, string? expected) in vectors)
        {
            var buffer = new char[Math.Max(1, input.Length)];
            int length = HttpPathNormalizer.Normalize(input, buffer);
            string? actual = length < 0 ? null : new string(buffer, 0, length);
            Assert.That(actual, Is.EqualTo(expected), input);
        }
    }

    [Test]
    public void Random_targets_never_throw_and_normalising_twice_changes_nothing()
    {
        var random = new Random(5);
        const string alphabet = "/./%2eEfF5cC?#\\a%zz";
        for (int i = 0; i < 20000; i++)
        {
            var chars = new char[random.Next(0, 40)];
            for (int c = 0; c < chars.Length; c++)
            {
                chars[c] = random.Next(10) == 0 ? (char)random.Next(0x20, 0x7f) : alphabet[random.Next(alphabet.Length)];
            }

            string target = "/" + new string(chars);
            var once = new char[target.Length];
            int length = HttpPathNormalizer.Normalize(target, once);
            if (length < 0)
            {
                continue;
            }

            string normalised = new(once, 0, length);
            var twice = new char[normalised.Length];
            int again = HttpPathNormalizer.Normalize(normalised, twice);
            Assert.That(again < 0 ? null : new string(twice, 0, again), Is.EqualTo(normalised), target);
            Assert.That(normalised, Does.Not.Contain("//").And.Not.Contain("/../").And.Not.Contain("/./").And.Not.EndWith("/..").And.Not.Contain("\\"), target);
        }
    }
}
