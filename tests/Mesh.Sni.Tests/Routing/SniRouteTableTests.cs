using System.Text;
using Mesh.Sni.Routing;

namespace Mesh.Sni.Tests.Routing;

public sealed class SniRouteTableTests
{
    private const string Td = "11111111-2222-3333-4444-555555555555.consul";

    private static SniRouteTable<string> Gateway() => new(
    [
        new($"counting.default.dc1.internal.{Td}", "local-counting"),
        new($"v2.counting.default.dc1.internal.{Td}", "local-counting-v2"),
        new($"*.dc2.internal.{Td}", "gateway-dc2"),
        new($"*.default.dc2.internal.{Td}", "gateway-dc2-default-ns"),
        new($"*.{Td}", "any-in-td"),
        new("Example.COM.", "example"),
    ]);

    private static SniRouteMatch Lookup(SniRouteTable<string> table, string name, out string? value) =>
        table.Lookup(Encoding.ASCII.GetBytes(name), out value);

    [TestCase("counting.default.dc1.internal." + Td, SniRouteMatch.Exact, "local-counting")]
    [TestCase("v2.counting.default.dc1.internal." + Td, SniRouteMatch.Exact, "local-counting-v2")]
    [TestCase("COUNTING.Default.DC1.internal." + Td, SniRouteMatch.Exact, "local-counting")]
    [TestCase("counting.default.dc1.internal." + Td + ".", SniRouteMatch.Exact, "local-counting")]
    [TestCase("example.com", SniRouteMatch.Exact, "example")]
    [TestCase("EXAMPLE.com.", SniRouteMatch.Exact, "example")]
    [TestCase("web.ns1.dc2.internal." + Td, SniRouteMatch.Wildcard, "gateway-dc2")]
    [TestCase("a.b.c.dc2.internal." + Td, SniRouteMatch.Wildcard, "gateway-dc2")]
    [TestCase("web.default.dc2.internal." + Td, SniRouteMatch.Wildcard, "gateway-dc2-default-ns")]
    [TestCase("v1.web.DEFAULT.dc2.internal." + Td, SniRouteMatch.Wildcard, "gateway-dc2-default-ns")]
    [TestCase("dc2.internal." + Td, SniRouteMatch.Wildcard, "any-in-td")]
    [TestCase("other.default.dc1.internal." + Td, SniRouteMatch.Wildcard, "any-in-td")]
    [TestCase(Td, SniRouteMatch.None, null)]
    [TestCase("www.example.com", SniRouteMatch.None, null)]
    [TestCase("counting.default.dc1.internal.other.consul", SniRouteMatch.None, null)]
    [TestCase("", SniRouteMatch.None, null)]
    [TestCase(".", SniRouteMatch.None, null)]
    public void Exact_beats_wildcard_and_the_longest_suffix_wins(string name, SniRouteMatch match, string? value)
    {
        Assert.That(Lookup(Gateway(), name, out string? found), Is.EqualTo(match));
        Assert.That(found, Is.EqualTo(value));
        Assert.That(Gateway().Lookup(name, out string? viaString), Is.EqualTo(match));
        Assert.That(viaString, Is.EqualTo(value));
    }

    [Test]
    public void A_wildcard_needs_at_least_one_leading_label()
    {
        var table = new SniRouteTable<int>([new("*.example.com", 1)]);
        Assert.That(table.Lookup("example.com", out _), Is.EqualTo(SniRouteMatch.None));
        Assert.That(table.Lookup(".example.com", out _), Is.EqualTo(SniRouteMatch.None));
        Assert.That(table.Lookup("x.example.com", out int value), Is.EqualTo(SniRouteMatch.Wildcard));
        Assert.That(value, Is.EqualTo(1));
        Assert.That(table.Lookup("xexample.com", out _), Is.EqualTo(SniRouteMatch.None));
    }

    [Test]
    public void Default_route_takes_what_matches_nothing()
    {
        var table = new SniRouteTable<string>([new("a.example", "a")], "fallback");
        Assert.That(table.HasDefault, Is.True);
        Assert.That(table.Lookup("b.example"u8, out string? value), Is.EqualTo(SniRouteMatch.Default));
        Assert.That(value, Is.EqualTo("fallback"));
        Assert.That(table.Lookup(ReadOnlySpan<byte>.Empty, out value), Is.EqualTo(SniRouteMatch.Default), "a hello without SNI");
        Assert.That(table.TryLookup("zzz"u8, out value), Is.True);
        Assert.That(table.Lookup("a.example"u8, out value), Is.EqualTo(SniRouteMatch.Exact));

        var strict = new SniRouteTable<string>([new("a.example", "a")]);
        Assert.That(strict.TryLookup("b.example"u8, out value), Is.False);
        Assert.That(value, Is.Null);
        Assert.That(strict.Lookup(new byte[300], out _), Is.EqualTo(SniRouteMatch.None));
        Assert.That(strict.Lookup([0x61, 0xff], out _), Is.EqualTo(SniRouteMatch.None));
        Assert.That(strict.Lookup(new string('.', 255), out _), Is.EqualTo(SniRouteMatch.None));
    }

    [Test]
    public void Only_letters_fold()
    {
        // '[' (0x5B) and '{' (0x7B), '@' and '`' differ only by the bit that folds case, but DNS folds A-Z alone
        // (RFC 4343 §3). In a first label kept in a slot, in a shared tail, in a whole name, and in a wildcard's suffix.
        var table = new SniRouteTable<int>(
        [
            new("a[.default.dc1.internal." + Td, 1),
            new("web.x@y.dc1.internal." + Td, 2),
            new("long-service-name[1].default.dc1.internal." + Td, 3),
            new("*.dc[2].internal." + Td, 4),
        ]);
        Assert.That(table.Lookup("A[.DEFAULT.dc1.internal." + Td, out int value), Is.EqualTo(SniRouteMatch.Exact));
        Assert.That(value, Is.EqualTo(1));
        Assert.That(table.Lookup("a{.default.dc1.internal." + Td, out _), Is.EqualTo(SniRouteMatch.None));
        Assert.That(table.Lookup("WEB.X@Y.dc1.internal." + Td, out value), Is.EqualTo(SniRouteMatch.Exact));
        Assert.That(value, Is.EqualTo(2));
        Assert.That(table.Lookup("web.x`y.dc1.internal." + Td, out _), Is.EqualTo(SniRouteMatch.None));
        Assert.That(table.Lookup("Long-Service-Name[1].default.dc1.internal." + Td, out value), Is.EqualTo(SniRouteMatch.Exact));
        Assert.That(value, Is.EqualTo(3));
        Assert.That(table.Lookup("long-service-name{1}.default.dc1.internal." + Td, out _), Is.EqualTo(SniRouteMatch.None));
        Assert.That(table.Lookup("web.default.DC[2].internal." + Td, out value), Is.EqualTo(SniRouteMatch.Wildcard));
        Assert.That(value, Is.EqualTo(4));
        Assert.That(table.Lookup("web.default.dc{2}.internal." + Td, out _), Is.EqualTo(SniRouteMatch.None));

        // A byte above 0x7F equals only itself: 0xC1 is not 'A' with the high bit set.
        byte[] high = Encoding.ASCII.GetBytes("a[.default.dc1.internal." + Td);
        high[0] = 0xC1;
        Assert.That(table.Lookup(high, out _), Is.EqualTo(SniRouteMatch.None));
    }

    [Test]
    public void Names_at_the_length_limit_resolve()
    {
        // DNS names stop at 253 characters (RFC 1035 §2.3.4, without the trailing dot); the table takes up to 255, the
        // longest a ClientHello's host name can carry that is still a name.
        string Name(string first, int length) => first + "." + new string('a', length - first.Length - 2) + "z";
        string shortFirst253 = Name("web", 253);
        string longFirst253 = Name("a-rather-long-service", 253);
        string shortFirst255 = Name("web", 255);
        string wildcardSuffix = new string('b', 250);
        var table = new SniRouteTable<int>(
        [
            new(shortFirst253, 1),
            new(longFirst253, 2),
            new(shortFirst255, 3),
            new("*." + wildcardSuffix, 4),
        ]);

        Assert.That(table.Lookup(shortFirst253.ToUpperInvariant(), out int value), Is.EqualTo(SniRouteMatch.Exact));
        Assert.That(value, Is.EqualTo(1));
        Assert.That(table.Lookup(longFirst253 + ".", out value), Is.EqualTo(SniRouteMatch.Exact));
        Assert.That(value, Is.EqualTo(2));
        Assert.That(table.Lookup(shortFirst255.ToUpperInvariant() + ".", out value), Is.EqualTo(SniRouteMatch.Exact));
        Assert.That(value, Is.EqualTo(3));
        Assert.That(table.Lookup("abc." + wildcardSuffix.ToUpperInvariant(), out value), Is.EqualTo(SniRouteMatch.Wildcard));
        Assert.That(value, Is.EqualTo(4));
        Assert.That(table.Lookup(shortFirst253[..^1] + "y", out _), Is.EqualTo(SniRouteMatch.None));
        Assert.That(table.Lookup(shortFirst255 + "a", out _), Is.EqualTo(SniRouteMatch.None), "256 bytes is no name");
        Assert.Throws<ArgumentException>(() => _ = new SniRouteTable<int>([new(shortFirst255 + "a", 1)]));
    }

    [TestCase("*")]
    [TestCase("")]
    [TestCase("*.")]
    [TestCase("a.*.example")]
    [TestCase("*a.example")]
    [TestCase("**.example")]
    [TestCase("with space.example")]
    [TestCase("bücher.example")]
    public void Malformed_route_names_are_refused(string pattern)
    {
        Assert.Throws<ArgumentException>(() => _ = new SniRouteTable<int>([new(pattern, 1)]));
    }

    [Test]
    public void A_name_routed_twice_is_refused()
    {
        Assert.Throws<ArgumentException>(() => _ = new SniRouteTable<int>([new("a.example", 1), new("A.EXAMPLE.", 2)]));
        Assert.Throws<ArgumentException>(() => _ = new SniRouteTable<int>([new("*.example", 1), new("*.Example", 2)]));
        Assert.DoesNotThrow(() => _ = new SniRouteTable<int>([new("*.example", 1), new("example", 2)]));
    }

    [Test]
    public void One_hundred_thousand_routes_all_resolve_without_allocating()
    {
        var routes = new List<KeyValuePair<string, int>>();
        for (int i = 0; i < 100_000; i++)
        {
            routes.Add(i % 10 == 0
                ? new($"*.dc{i}.internal.{Td}", i)
                : new($"svc{i}.default.dc1.internal.{Td}", i));
        }

        var table = new SniRouteTable<int>(routes);
        Assert.That(table.Count, Is.EqualTo(100_000));

        byte[] buffer = new byte[255];
        for (int i = 0; i < 100_000; i++)
        {
            string name = i % 10 == 0 ? $"web.default.dc{i}.internal.{Td}" : $"SVC{i}.default.dc1.internal.{Td}";
            int length = Encoding.ASCII.GetBytes(name, buffer);
            SniRouteMatch match = table.Lookup(buffer.AsSpan(0, length), out int value);
            if (value != i || match != (i % 10 == 0 ? SniRouteMatch.Wildcard : SniRouteMatch.Exact))
            {
                Assert.Fail($"{name} gave {match} {value}");
            }
        }

        Assert.That(table.Lookup($"svc1.default.dc2.internal.{Td}", out _), Is.EqualTo(SniRouteMatch.None));

        byte[] probe = Encoding.ASCII.GetBytes($"web.default.dc50.internal.{Td}");
        table.Lookup(probe, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            table.Lookup(probe, out _);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
