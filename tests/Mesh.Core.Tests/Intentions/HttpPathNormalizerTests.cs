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
}
