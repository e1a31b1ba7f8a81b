using System.Text;
using Mesh.Identity;

namespace Mesh.Core.Tests.Identity;

public sealed class SpiffeIdTests
{
    [TestCase("spiffe://example.org", "example.org", "")]
    [TestCase("spiffe://example.org/ns/default/dc/dc1/svc/web", "example.org", "/ns/default/dc/dc1/svc/web")]
    [TestCase("spiffe://7f42f496-fbc7-8692-05ed-334aa5340c1e.consul/ns/default/dc/dc1/svc/dashboard", "7f42f496-fbc7-8692-05ed-334aa5340c1e.consul", "/ns/default/dc/dc1/svc/dashboard")]
    [TestCase("spiffe://td_under/A.b-c_d/.x/...", "td_under", "/A.b-c_d/.x/...")]
    [TestCase("spiffe://192.168.1.1/x", "192.168.1.1", "/x")]
    [TestCase("spiffe://a", "a", "")]
    [TestCase("spiffe://a-b_c.d", "a-b_c.d", "")]
    [TestCase("spiffe://example.org/UPPER/Case/Path", "example.org", "/UPPER/Case/Path")]
    [TestCase("spiffe://example.org/..x", "example.org", "/..x")]
    [TestCase("spiffe://example.org/x..", "example.org", "/x..")]
    [TestCase("spiffe://example.org/..../-/_", "example.org", "/..../-/_")]
    [TestCase("spiffe://example.org/0/1/2", "example.org", "/0/1/2")]
    [TestCase("spiffe://10.0.0.1", "10.0.0.1", "")]
    [TestCase("spiffe://...", "...", "")]
    [TestCase("spiffe://example.consul/agent/client/dc/dc1/id/node.a", "example.consul", "/agent/client/dc/dc1/id/node.a")]
    [TestCase("spiffe://example.consul/gateway/mesh/dc/dc1", "example.consul", "/gateway/mesh/dc/dc1")]
    public void Parse_accepts_valid_ids(string input, string trustDomain, string path)
    {
        SpiffeId id = SpiffeId.Parse(input);

        Assert.Multiple(() =>
        {
            Assert.That(id.TrustDomain.Name, Is.EqualTo(trustDomain));
            Assert.That(id.Path, Is.EqualTo(path));
            Assert.That(id.ToString(), Is.EqualTo(input));
            Assert.That(id.HasPath, Is.EqualTo(path.Length > 0));
        });
    }

    [TestCase("", SpiffeIdError.Empty)]
    [TestCase("http://example.org/x", SpiffeIdError.WrongScheme)]
    [TestCase("SPIFFE://example.org/x", SpiffeIdError.WrongScheme)]
    [TestCase("spiffe://", SpiffeIdError.MissingTrustDomain)]
    [TestCase("spiffe:///path", SpiffeIdError.MissingTrustDomain)]
    [TestCase("spiffe://Example.org/x", SpiffeIdError.TrustDomainUpperCase)]
    [TestCase("spiffe://example.org:8080/x", SpiffeIdError.Port)]
    [TestCase("spiffe://user@example.org/x", SpiffeIdError.UserInfo)]
    [TestCase("spiffe://[::1]/x", SpiffeIdError.IPv6TrustDomain)]
    [TestCase("spiffe://exa%41mple.org/x", SpiffeIdError.PercentEncoding)]
    [TestCase("spiffe://example.org/a%2Fb", SpiffeIdError.PercentEncoding)]
    [TestCase("spiffe://example.org/x?q=1", SpiffeIdError.Query)]
    [TestCase("spiffe://example.org/x#frag", SpiffeIdError.Fragment)]
    [TestCase("spiffe://example.org//x", SpiffeIdError.EmptySegment)]
    [TestCase("spiffe://example.org/x/", SpiffeIdError.TrailingSlash)]
    [TestCase("spiffe://example.org/", SpiffeIdError.TrailingSlash)]
    [TestCase("spiffe://example.org/./x", SpiffeIdError.DotSegment)]
    [TestCase("spiffe://example.org/x/..", SpiffeIdError.DotSegment)]
    [TestCase("spiffe://example.org/x y", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://exa mple.org/x", SpiffeIdError.TrustDomainInvalidCharacter)]
    [TestCase("spiffe://example.org/caf\u00e9", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://\u212Aelvin.org/x", SpiffeIdError.TrustDomainInvalidCharacter)]
    [TestCase("Spiffe://example.org/x", SpiffeIdError.WrongScheme)]
    [TestCase("spiffe:/example.org/x", SpiffeIdError.WrongScheme)]
    [TestCase("spiffe:example.org", SpiffeIdError.WrongScheme)]
    [TestCase("example.org/x", SpiffeIdError.WrongScheme)]
    [TestCase("spiffe", SpiffeIdError.WrongScheme)]
    [TestCase(" spiffe://example.org/x", SpiffeIdError.WrongScheme)]
    [TestCase("spiffe://EXAMPLE.ORG", SpiffeIdError.TrustDomainUpperCase)]
    [TestCase("spiffe://example.Org/x", SpiffeIdError.TrustDomainUpperCase)]
    [TestCase("spiffe://example.org:443", SpiffeIdError.Port)]
    [TestCase("spiffe://example.org:/x", SpiffeIdError.Port)]
    [TestCase("spiffe://user:pass@example.org/x", SpiffeIdError.UserInfo)]
    [TestCase("spiffe://@example.org", SpiffeIdError.UserInfo)]
    [TestCase("spiffe://[2001:db8::1]/x", SpiffeIdError.IPv6TrustDomain)]
    [TestCase("spiffe://[::1]:8080/x", SpiffeIdError.IPv6TrustDomain)]
    [TestCase("spiffe://%65xample.org", SpiffeIdError.PercentEncoding)]
    [TestCase("spiffe://example.org/%2E%2E/x", SpiffeIdError.PercentEncoding)]
    [TestCase("spiffe://example.org/a%20b", SpiffeIdError.PercentEncoding)]
    [TestCase("spiffe://example.org/%", SpiffeIdError.PercentEncoding)]
    [TestCase("spiffe://example.org?x=1", SpiffeIdError.Query)]
    [TestCase("spiffe://example.org/x/?", SpiffeIdError.Query)]
    [TestCase("spiffe://example.org#f", SpiffeIdError.Fragment)]
    [TestCase("spiffe://example.org/x/#", SpiffeIdError.Fragment)]
    [TestCase("spiffe://example.org///", SpiffeIdError.EmptySegment)]
    [TestCase("spiffe://example.org/a//b", SpiffeIdError.EmptySegment)]
    [TestCase("spiffe://example.org/a/b//", SpiffeIdError.EmptySegment)]
    [TestCase("spiffe://example.org/a/b/", SpiffeIdError.TrailingSlash)]
    [TestCase("spiffe://example.org/.", SpiffeIdError.DotSegment)]
    [TestCase("spiffe://example.org/..", SpiffeIdError.DotSegment)]
    [TestCase("spiffe://example.org/a/./b", SpiffeIdError.DotSegment)]
    [TestCase("spiffe://example.org/a/../b", SpiffeIdError.DotSegment)]
    [TestCase("spiffe://example.org/a:b", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://example.org/a@b", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://example.org/a+b", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://example.org/a~b", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://example.org/a\\b", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://example.org/\u212Aelvin", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://example.org/\u65e5\u672c", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://example.org/x\u0000", SpiffeIdError.PathInvalidCharacter)]
    [TestCase("spiffe://\u00e9xample.org/x", SpiffeIdError.TrustDomainInvalidCharacter)]
    [TestCase("spiffe://exa*mple.org", SpiffeIdError.TrustDomainInvalidCharacter)]
    [TestCase("spiffe://example.org\\x", SpiffeIdError.TrustDomainInvalidCharacter)]
    public void Parse_rejects_invalid_ids_naming_the_rule(string input, SpiffeIdError expected)
    {
        Assert.Multiple(() =>
        {
            Assert.That(SpiffeId.TryParse(input, out _, out SpiffeIdError error), Is.False);
            Assert.That(error, Is.EqualTo(expected));
            Assert.That(SpiffeId.Validate(Encoding.UTF8.GetBytes(input)), Is.EqualTo(expected), "the UTF-8 parser agrees");
            var ex = Assert.Throws<FormatException>(() => SpiffeId.Parse(input));
            Assert.That(ex!.Message, Does.Contain(expected.ToString()));
        });
    }

    [Test]
    public void Trust_domain_longer_than_255_bytes_is_rejected_and_255_is_accepted()
    {
        string ok = new('a', 255);
        Assert.Multiple(() =>
        {
            Assert.That(TrustDomain.TryParse(ok, out _, out _), Is.True);
            Assert.That(TrustDomain.TryParse(ok + "a", out _, out SpiffeIdError error), Is.False);
            Assert.That(error, Is.EqualTo(SpiffeIdError.TrustDomainTooLong));
        });
    }

    [Test]
    public void Ids_of_2048_bytes_are_accepted()
    {
        string prefix = "spiffe://example.org/";
        string id = prefix + new string('p', 2048 - prefix.Length);
        Assert.That(id, Has.Length.EqualTo(2048));
        Assert.That(SpiffeId.Parse(id).Path, Has.Length.EqualTo(2048 - prefix.Length + 1));
    }

    [Test]
    public void Utf8_parse_gives_the_same_id_as_string_parse()
    {
        const string text = "spiffe://example.consul/ns/default/dc/dc1/svc/web";
        Assert.That(SpiffeId.TryParse(Encoding.ASCII.GetBytes(text), out SpiffeId fromBytes, out _), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(fromBytes, Is.EqualTo(SpiffeId.Parse(text)));
            Assert.That(fromBytes.TrustDomain.Name, Is.EqualTo("example.consul"));
            Assert.That(fromBytes.Equals(Encoding.ASCII.GetBytes(text)), Is.True);
        });
    }

    [Test]
    public void ParseNormalized_folds_scheme_and_trust_domain_only()
    {
        SpiffeId id = SpiffeId.ParseNormalized("SPIFFE://Example.ORG/Path/Keeps/Case");
        Assert.That(id.ToString(), Is.EqualTo("spiffe://example.org/Path/Keeps/Case"));
    }

    [Test]
    public void ParseNormalized_never_applies_unicode_case_mapping()
    {
        // The Kelvin sign lower-cases to 'k' under Unicode rules; ASCII folding leaves it, so it is rejected.
        Assert.Throws<FormatException>(() => SpiffeId.ParseNormalized("spiffe://\u212Aelvin.org/x"));
    }

    [Test]
    public void FromSegments_rejects_segments_that_would_change_the_path()
    {
        TrustDomain td = TrustDomain.Parse("example.org");
        Assert.Multiple(() =>
        {
            Assert.That(SpiffeId.FromSegments(td, "a", "b").ToString(), Is.EqualTo("spiffe://example.org/a/b"));
            Assert.Throws<FormatException>(() => SpiffeId.FromSegments(td, "a/b"));
            Assert.Throws<FormatException>(() => SpiffeId.FromSegments(td, ".."));
            Assert.Throws<FormatException>(() => SpiffeId.FromSegments(td, "a%20b"));
        });
    }

    [Test]
    public void Ids_far_longer_than_2048_bytes_parse_from_strings_and_bytes()
    {
        string id = "spiffe://example.org" + string.Concat(Enumerable.Repeat("/segment-0123456789", 400));
        Assert.Multiple(() =>
        {
            Assert.That(id, Has.Length.GreaterThan(2048 * 3));
            Assert.That(SpiffeId.TryParse(id, out _), Is.True);
            Assert.That(SpiffeId.Validate(Encoding.ASCII.GetBytes(id)), Is.EqualTo(SpiffeIdError.None));
        });
    }

    [Test]
    public void A_2048_byte_id_with_a_bad_last_byte_names_the_rule_at_the_end()
    {
        string prefix = "spiffe://example.org/";
        string id = prefix + new string('p', 2047 - prefix.Length) + "/";
        Assert.That(id, Has.Length.EqualTo(2048));
        Assert.That(SpiffeId.Validate(id.AsSpan()), Is.EqualTo(SpiffeIdError.TrailingSlash));
    }

    [Test]
    public void Non_ascii_utf8_bytes_are_refused_by_the_byte_parser()
    {
        byte[] kelvin = Encoding.UTF8.GetBytes("spiffe://example.org/\u212Aelvin");
        byte[] latin1 = [.. Encoding.ASCII.GetBytes("spiffe://example.org/caf"), 0xE9];
        byte[] tdHigh = [.. Encoding.ASCII.GetBytes("spiffe://ex"), 0xC3, 0xA9, .. Encoding.ASCII.GetBytes(".org")];
        Assert.Multiple(() =>
        {
            Assert.That(SpiffeId.Validate(kelvin), Is.EqualTo(SpiffeIdError.PathInvalidCharacter));
            Assert.That(SpiffeId.Validate(latin1), Is.EqualTo(SpiffeIdError.PathInvalidCharacter));
            Assert.That(SpiffeId.Validate(tdHigh), Is.EqualTo(SpiffeIdError.TrustDomainInvalidCharacter));
            Assert.That(SpiffeId.TryParse(kelvin, out _, out _), Is.False);
        });
    }

    [TestCase("SPIFFE://EXAMPLE.org/Path", "spiffe://example.org/Path")]
    [TestCase("spiffe://Example.Org", "spiffe://example.org")]
    [TestCase("SpIfFe://a.B.c/X/y", "spiffe://a.b.c/X/y")]
    public void ParseNormalized_cases(string input, string expected) =>
        Assert.That(SpiffeId.ParseNormalized(input).ToString(), Is.EqualTo(expected));

    [TestCase("SPIFFE://example.org/a/../b", SpiffeIdError.DotSegment)]
    [TestCase("SPIFFE://user@Example.org/x", SpiffeIdError.UserInfo)]
    [TestCase("HTTP://example.org/x", SpiffeIdError.WrongScheme)]
    [TestCase("example.org", SpiffeIdError.WrongScheme)]
    public void ParseNormalized_still_enforces_every_other_rule(string input, SpiffeIdError rule)
    {
        var ex = Assert.Throws<FormatException>(() => SpiffeId.ParseNormalized(input));
        Assert.That(ex!.Message, Does.Contain(rule.ToString()));
    }

    [TestCase("Example.ORG", "example.org")]
    [TestCase("SPIFFE://Example.org", "example.org")]
    [TestCase("spiffe://td", "td")]
    public void TrustDomain_ParseNormalized_cases(string input, string expected) =>
        Assert.That(TrustDomain.ParseNormalized(input).Name, Is.EqualTo(expected));

    [Test]
    public void Ids_are_compared_byte_for_byte_and_the_path_is_case_sensitive()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SpiffeId.Parse("spiffe://a/X"), Is.Not.EqualTo(SpiffeId.Parse("spiffe://a/x")));
            Assert.That(SpiffeId.Parse("spiffe://a/x"), Is.EqualTo(SpiffeId.Parse(string.Concat("spiffe://a/", "x"))));
            Assert.That(SpiffeId.Parse("spiffe://a/x").TrustDomain, Is.EqualTo(TrustDomain.Parse("a")));
            Assert.That(TrustDomain.Parse("a").Id.ToString(), Is.EqualTo("spiffe://a"));
            Assert.That(default(SpiffeId).IsValid, Is.False);
        });
    }
}
