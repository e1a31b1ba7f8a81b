using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

public sealed class Re2PatternTests
{
    private static IntentionValidationException Refused(string pattern) =>
        Assert.Throws<IntentionValidationException>(() => _ = new Intention(new IntentionSource("web"), new IntentionDestination("api"),
            [new IntentionPermission(IntentionAction.Allow, new IntentionHttpMatch { PathRegex = pattern })]))!;

    [Test]
    public void Constructs_re2_refuses_are_refused_at_load_time()
    {
        foreach (string pattern in new[] { @"/(a)\1", "/(?=a)", "/(?!a)", "/(?<=a)b", "/(?<!a)b", "/(?>a)", @"/(?<n>a)\k<n>", "/(?P<n>a)(?P=n)", @"/a\Z", @"\G/a", "/(?(a)b|c)" })
        {
            IntentionValidationException e = Refused(pattern);
            Assert.That(e.Rule, Is.EqualTo(IntentionValidationRule.RegexNotRe2), pattern);
            Assert.That(e.Message, Does.Contain("RE2").And.Contain("Permissions[0].HTTP.PathRegex"), pattern);
        }
    }

    [Test]
    public void A_pattern_that_does_not_parse_is_invalid()
    {
        Assert.That(Refused("/(unclosed").Rule, Is.EqualTo(IntentionValidationRule.InvalidRegex));
        Assert.That(Refused("/a**").Rule, Is.EqualTo(IntentionValidationRule.InvalidRegex));
    }

    [Test]
    public void Re2_named_groups_and_dollar_keep_their_meaning()
    {
        var context = new IntentionValidationContext("api", "web", string.Empty);
        var named = Re2Pattern.Compile("/(?P<version>v[0-9])/.*", "f", context);
        var dollar = Re2Pattern.Compile("/a$", "f", context);
        var classes = Re2Pattern.Compile(@"[\d\w]+\s\S", "f", context);
        Assert.Multiple(() =>
        {
            Assert.That(named.IsMatch("/v1/x"), Is.True);
            Assert.That(dollar.IsMatch("/a"), Is.True);
            Assert.That(dollar.IsMatch("/a\n"), Is.False, "RE2's $ is the end of text");
            Assert.That(classes.IsMatch("a1_ x"), Is.True);
            Assert.That(classes.IsMatch("\u0663 x"), Is.False);
            Assert.That(classes.IsMatch("a\u2003x"), Is.False, @"\s is ASCII in RE2");
        });
    }

    [TestCase("/.*a.{200}")]
    [TestCase("/(a|b|c|d){50}")]
    [TestCase("/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/.{60}")]
    [TestCase("/((a{10}){10}){10}")]
    public void A_pattern_above_re2s_program_size_budget_is_refused_as_envoy_refuses_it(string pattern)
    {
        IntentionValidationException e = Refused(pattern);
        Assert.That(e.Rule, Is.EqualTo(IntentionValidationRule.RegexTooComplex), pattern);
        Assert.That(e.Message, Does.Contain("100"), pattern);
    }

    [TestCase("/a{1001}")]
    [TestCase("/a{1001,}")]
    [TestCase("/a{2,1001}")]
    [TestCase("/a{99999999999}")]
    [TestCase("/((a{10}){10}){11}")]
    public void A_repeat_count_above_1000_is_refused_as_re2_refuses_it(string pattern)
    {
        Assert.That(Refused(pattern).Rule, Is.EqualTo(IntentionValidationRule.InvalidRegex), pattern);
    }

    [TestCase("/v[0-9]+/.*")]
    [TestCase("/api/v[12]/(users|groups)/[^/]+")]
    [TestCase("/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    [TestCase("/(?P<version>v[0-9])/.*")]
    [TestCase("/a{,3}")]
    [TestCase("/(a|b|c|d){20}")]
    [TestCase("/.{10}")]
    public void Everyday_patterns_stay_within_the_budget(string pattern)
    {
        Assert.DoesNotThrow(() => _ = new Intention(new IntentionSource("web"), new IntentionDestination("api"),
            [new IntentionPermission(IntentionAction.Allow, new IntentionHttpMatch { PathRegex = pattern })]));
    }

    [Test]
    public void A_header_regex_has_the_same_budget()
    {
        var e = Assert.Throws<IntentionValidationException>(() => _ = new Intention(new IntentionSource("web"), new IntentionDestination("api"),
            [new IntentionPermission(IntentionAction.Allow, new IntentionHttpMatch { Headers = [new IntentionHeaderMatch { Name = "x", Regex = ".*a.{200}" }] })]))!;
        Assert.That(e.Rule, Is.EqualTo(IntentionValidationRule.RegexTooComplex));
    }
}
