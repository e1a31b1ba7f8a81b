using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.Rotation;
using Mesh.Tls.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Tests.Rotation;

/// <summary>What the CA answers cannot make the rotation loop spin, and refusals are told apart from outages.</summary>
public sealed class LeafRotationStormAndRetryTests
{
    private static readonly SpiffeId Web = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/web");

    [Test]
    public async Task A_ca_answering_with_another_issuer_every_time_cannot_drive_renewals_faster_than_the_minimum_interval()
    {
        var time = new ManualTimeProvider();
        var options = new MeshCaOptions { TrustDomain = Web.TrustDomain, SigningRateLimit = 0 };
        using var announced = new MeshCertificateAuthority(options, time);
        using var signing = new MeshCertificateAuthority(options, time);
        var issuer = new MismatchedIssuer(announced, new CertificateAuthorityLeafIssuer(signing, Web));
        var rotation = new LeafRotationOptions { MinimumRenewalInterval = TimeSpan.FromSeconds(5), RetryMaximumDelay = TimeSpan.FromMinutes(1) };
        await using var manager = new LeafRotationManager(issuer, time, rotation, null, new Random(3));

        await manager.StartAsync(Timeout());
        var advanced = TimeSpan.Zero;
        for (int step = 0; step < 60; step++)
        {
            await Eventually(() => time.PendingTimers == 1,
                () => $"the loop never parked on the clock: {Volatile.Read(ref issuer.Attempts)} renewals at {time.GetUtcNow():O}");
            time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
        }

        await Eventually(() => time.PendingTimers == 1);
        int attempts = Volatile.Read(ref issuer.Attempts);
        Assert.That(attempts, Is.LessThanOrEqualTo(1 + (int)(advanced / rotation.MinimumRenewalInterval)),
            $"{attempts} renewals in {advanced} with a minimum interval of {rotation.MinimumRenewalInterval}");
        Assert.That(attempts, Is.GreaterThan(1), "the mismatch is still acted on, only not faster than allowed");
    }

    [Test]
    public async Task StartAsync_completes_with_a_usable_leaf()
    {
        var time = new ManualTimeProvider();
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Web.TrustDomain, SigningRateLimit = 0 }, time);
        await using var manager = new LeafRotationManager(new CertificateAuthorityLeafIssuer(ca, Web), time, null, null, new Random(1));

        await manager.StartAsync(Timeout());

        Assert.That(manager.Current, Is.Not.Null);
        Assert.That(manager.Current!.Id, Is.EqualTo(Web));
    }

    [TestCase(CertificateSigningError.Unauthorized)]
    [TestCase(CertificateSigningError.MalformedRequest)]
    public async Task A_permanent_refusal_fails_StartAsync_once_without_retrying(CertificateSigningError error)
    {
        var time = new ManualTimeProvider();
        var issuer = new ScriptedIssuer(_ => throw new CertificateSigningException(error, "The CA at http://127.0.0.1:8501/ refused to sign for 'web' (403)."));
        await using var manager = new LeafRotationManager(issuer, time, null, null, new Random(1));

        var thrown = Assert.ThrowsAsync<CertificateSigningException>(async () => await manager.StartAsync(Timeout()));

        Assert.That(thrown!.Error, Is.EqualTo(error));
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.That(Volatile.Read(ref issuer.Attempts), Is.EqualTo(1), "a refusal is not retried");
    }

    [Test]
    public async Task Transient_failures_are_retried_and_logged_as_one_warning_line_without_a_stack_trace()
    {
        var time = new ManualTimeProvider();
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Web.TrustDomain, SigningRateLimit = 0 }, time);
        var inner = new CertificateAuthorityLeafIssuer(ca, Web);
        Exception[] failures =
        [
            new HttpRequestException("Connection refused (127.0.0.1:8501)"),
            new HttpRequestException("The CA answered 503", null, System.Net.HttpStatusCode.ServiceUnavailable),
            new CertificateSigningException(CertificateSigningError.RateLimited, "The CA signs at most 50 certificates per second."),
            new TimeoutException("The CA did not answer within 30 s."),
        ];
        var issuer = new ScriptedIssuer(attempt => attempt <= failures.Length ? throw failures[attempt - 1] : inner.IssueAsync(CancellationToken.None));
        var logs = new ListLogger();
        await using var manager = new LeafRotationManager(issuer, time, null, logs, new Random(1));

        Task start = manager.StartAsync(Timeout());
        for (int i = 1; i <= failures.Length; i++)
        {
            int attempt = i;
            await Eventually(() => Volatile.Read(ref issuer.Attempts) == attempt && time.PendingTimers == 1);
            time.Advance(manager.NextRenewal - time.GetUtcNow());
        }

        await start.WaitAsync(Timeout());
        List<ListLogger.Entry> warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(manager.Current, Is.Not.Null);
            Assert.That(warnings, Has.Count.EqualTo(failures.Length));
            Assert.That(warnings.Select(w => w.Exception), Is.All.Null, "no stack trace at Warning");
            Assert.That(warnings.Select(w => w.Message), Is.All.Not.Contain("\n"), "one line each");
            Assert.That(warnings[0].Message, Does.Contain("Connection refused"));
            Assert.That(logs.Entries.Where(e => e.Level == LogLevel.Debug && e.Exception is not null).Count(), Is.EqualTo(failures.Length),
                "the exception itself is kept at Debug");
        });
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    // A guard against hangs, not a timing assertion: polls a condition the background loop makes true.
    private static async Task Eventually(Func<bool> condition, Func<string>? describe = null)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.That(condition(), Is.True, describe?.Invoke() ?? "the rotation loop did not reach the expected state");
    }

    /// <summary>Announces one CA's signing key but has its leaves signed by another: every new leaf looks stale at once.</summary>
    private sealed class MismatchedIssuer(MeshCertificateAuthority announced, ILeafIssuer signing) : ILeafIssuer
    {
        public int Attempts;

        public ReadOnlyMemory<byte> ActiveSigningKeyId => announced.ActiveSigningKeyId;

        public IChangeToken GetSigningKeyChangeToken() => announced.GetSigningKeyChangeToken();

        public ValueTask<LeafCertificate> IssueAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Attempts);
            return signing.IssueAsync(cancellationToken);
        }
    }

    private sealed class ScriptedIssuer(Func<int, ValueTask<LeafCertificate>> issue) : ILeafIssuer
    {
        public int Attempts;

        public ReadOnlyMemory<byte> ActiveSigningKeyId => ReadOnlyMemory<byte>.Empty;

        public IChangeToken GetSigningKeyChangeToken() => new CancellationChangeToken(CancellationToken.None);

        public ValueTask<LeafCertificate> IssueAsync(CancellationToken cancellationToken) => issue(Interlocked.Increment(ref Attempts));
    }
}
