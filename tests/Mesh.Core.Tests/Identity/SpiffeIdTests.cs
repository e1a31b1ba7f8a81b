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
}
