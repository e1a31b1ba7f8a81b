using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.Rotation;
using Mesh.Tls.Tests.Support;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Tests.Rotation;

public sealed class LeafRotationManagerTests
{
    private static readonly SpiffeId Web = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/web");

    [TestCase(0.0, 0.6)]
    [TestCase(0.5, 0.75)]
    [TestCase(1.0, 0.9)]
    public void Renewal_point_is_uniform_between_60_and_90_percent(double uniform, double fraction)
    {
        var nb = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        DateTimeOffset at = LeafRotationManager.ComputeRenewal(nb, nb.AddHours(72), nb.AddMinutes(1), uniform);
        Assert.That(at, Is.EqualTo(nb + (TimeSpan.FromHours(72) * fraction)));
    }

    [Test]
    public void Renewal_past_60_percent_draws_between_now_and_90_percent_and_is_immediate_only_past_90_percent()
    {
        // Consul's agent: once 60 % has passed, a uniform point in [now, 90 %], so a fleet restarted together does not renew together.
        var nb = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        DateTimeOffset at70 = nb + (TimeSpan.FromHours(72) * 0.7);
        DateTimeOffset at90 = nb + (TimeSpan.FromHours(72) * 0.9);
        DateTimeOffset late = nb.AddHours(66);
        Assert.Multiple(() =>
        {
            Assert.That(LeafRotationManager.ComputeRenewal(nb, nb.AddHours(72), at70, 0.0), Is.EqualTo(at70));
            Assert.That(LeafRotationManager.ComputeRenewal(nb, nb.AddHours(72), at70, 0.5), Is.EqualTo(at70 + ((at90 - at70) / 2)));
            Assert.That(LeafRotationManager.ComputeRenewal(nb, nb.AddHours(72), at70, 1.0), Is.EqualTo(at90));
            Assert.That(LeafRotationManager.ComputeRenewal(nb, nb.AddHours(72), late, 0.5), Is.EqualTo(late));
        });
    }

    [Test]
    public void Lifetimes_under_10_minutes_renew_inside_their_window_not_at_once()
    {
        var nb = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Multiple(() =>
        {
            Assert.That(LeafRotationManager.ComputeRenewal(nb, nb.AddMinutes(5), nb, 0.0), Is.EqualTo(nb.AddMinutes(3)));
            Assert.That(LeafRotationManager.ComputeRenewal(nb, nb.AddMinutes(5), nb, 1.0), Is.EqualTo(nb.AddMinutes(4.5)));
            Assert.That(LeafRotationManager.ComputeRenewal(nb, nb.AddMinutes(10), nb, 0.0), Is.EqualTo(nb.AddMinutes(6)));
        });
    }

    [Test]
    public async Task Renews_inside_the_window_and_after_a_root_change_under_a_fake_clock()
    {
        var time = new ManualTimeProvider();
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Web.TrustDomain, SigningRateLimit = 0 }, time);
        await using var manager = new LeafRotationManager(new CertificateAuthorityLeafIssuer(ca, Web), time, null, null, new Random(7));
        manager.Start();
        LeafCertificate first = await manager.GetLeafAsync(Timeout());
        await Eventually(() => time.PendingTimers == 1);
        DateTimeOffset due = manager.NextRenewal;
        TimeSpan lifetime = first.NotAfter - first.NotBefore;
        Assert.Multiple(() =>
        {
            Assert.That(lifetime, Is.EqualTo(TimeSpan.FromHours(72)));
            Assert.That(due, Is.InRange(first.NotBefore + (lifetime * 0.6), first.NotBefore + (lifetime * 0.9)));
        });

        time.Advance(due - time.GetUtcNow() - TimeSpan.FromSeconds(1));
        Assert.That(manager.Current, Is.SameAs(first), "not renewed before its point");
        Task changed = Changed(manager);
        time.Advance(TimeSpan.FromSeconds(2));
        await changed.WaitAsync(Timeout());
        LeafCertificate second = manager.Current!;
        Assert.That(second, Is.Not.SameAs(first));

        // A root rotation: the leaf's AuthorityKeyId no longer matches the signing key, renew within 0-30 s.
        await Eventually(() => manager.NextRenewal > time.GetUtcNow() + TimeSpan.FromHours(1) && time.PendingTimers == 1);
        ca.RotateRoot();
        await Eventually(() => manager.NextRenewal <= time.GetUtcNow() + TimeSpan.FromSeconds(30) && time.PendingTimers == 1);
        changed = Changed(manager);
        time.Advance(TimeSpan.FromSeconds(30));
        await changed.WaitAsync(Timeout());
        LeafCertificate third = manager.Current!;
        Assert.That(third.Intermediates, Has.Count.EqualTo(1), "the new leaf carries the cross-signed root");
        Assert.That(third.Intermediates[0].SubjectName.RawData, Is.EqualTo(ca.ActiveRoot.Certificate.SubjectName.RawData));
    }

    [Test]
    public async Task Failures_are_retried_with_backoff()
    {
        var time = new ManualTimeProvider();
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Web.TrustDomain, SigningRateLimit = 0 }, time);
        var issuer = new FlakyIssuer(new CertificateAuthorityLeafIssuer(ca, Web), failures: 3);
        await using var manager = new LeafRotationManager(issuer, time, new LeafRotationOptions { RetryInitialDelay = TimeSpan.FromSeconds(1) }, null, new Random(1));
        manager.Start();
        var delays = new List<TimeSpan>();
        for (int i = 1; i <= 3; i++)
        {
            int attempt = i;
            await Eventually(() => Volatile.Read(ref issuer.Attempts) == attempt && manager.NextRenewal > time.GetUtcNow() && time.PendingTimers == 1,
                () => $"attempt {attempt}: attempts {Volatile.Read(ref issuer.Attempts)}, next {manager.NextRenewal:O}, now {time.GetUtcNow():O}");
            delays.Add(manager.NextRenewal - time.GetUtcNow());
            time.Advance(manager.NextRenewal - time.GetUtcNow());
        }

        await manager.GetLeafAsync(Timeout());
        // Exponential with jitter: attempt n waits a uniform point in the upper half of 2^(n-1) s.
        Assert.Multiple(() =>
        {
            Assert.That(delays[0], Is.InRange(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1)));
            Assert.That(delays[1], Is.InRange(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
            Assert.That(delays[2], Is.InRange(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)));
        });
    }

    private static Task Changed(LeafRotationManager source)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.GetChangeToken().RegisterChangeCallback(static s => ((TaskCompletionSource)s!).TrySetResult(), tcs);
        return tcs.Task;
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    // A guard against hangs, not a timing assertion: polls a condition the background loop makes true.
    private static async Task Eventually(Func<bool> condition, Func<string>? describe = null)
    {
        for (int i = 0; i < 2000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.That(condition(), Is.True, describe?.Invoke() ?? "the rotation loop did not reach the expected state");
    }

    private sealed class FlakyIssuer(ILeafIssuer inner, int failures) : ILeafIssuer
    {
        public int Attempts;

        public ReadOnlyMemory<byte> ActiveSigningKeyId => inner.ActiveSigningKeyId;

        public IChangeToken GetSigningKeyChangeToken() => inner.GetSigningKeyChangeToken();

        public ValueTask<LeafCertificate> IssueAsync(CancellationToken cancellationToken) =>
            Interlocked.Increment(ref Attempts) <= failures
                ? throw new InvalidOperationException("The CA is unreachable.")
                : inner.IssueAsync(cancellationToken);
    }
}
