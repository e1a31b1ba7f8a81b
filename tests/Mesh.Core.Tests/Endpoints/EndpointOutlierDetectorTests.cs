using System.Net;
using Mesh.Core.Tests.Splicing;
using Mesh.Endpoints;
using Microsoft.Extensions.Options;

namespace Mesh.Core.Tests.Endpoints;

public sealed class EndpointOutlierDetectorTests
{
    private static readonly IPEndPoint A = new(IPAddress.Loopback, 20001);
    private static readonly IPEndPoint B = new(IPAddress.Loopback, 20002);

    private static readonly OutlierDetectionOptions Options = new()
    {
        ConsecutiveFailures = 3,
        BaseEjectionTime = TimeSpan.FromSeconds(30),
        MaxEjectionTime = TimeSpan.FromSeconds(75),
    };

    [Test]
    public void Three_consecutive_failures_eject_and_a_success_between_them_starts_the_count_again()
    {
        var detector = new EndpointOutlierDetector("test", Options, new ManualTimeProvider());

        Assert.That(detector.ReportFailure(A), Is.False);
        Assert.That(detector.ReportFailure(A), Is.False);
        detector.ReportSuccess(A);
        Assert.That(detector.ReportFailure(A), Is.False);
        Assert.That(detector.ReportFailure(A), Is.False);
        Assert.That(detector.IsEjected(A), Is.False);
        Assert.That(detector.ReportFailure(A), Is.True);
        Assert.That(detector.IsEjected(A), Is.True);
        Assert.That(detector.IsEjected(new IPEndPoint(IPAddress.Loopback, A.Port)), Is.True, "endpoints compare by address and port");
        Assert.That(detector.IsEjected(B), Is.False);
        Assert.That(detector.EjectedCount, Is.EqualTo(1));
    }

    [Test]
    public void An_ejected_endpoint_returns_after_its_period_and_a_failed_probe_ejects_it_again_for_longer_up_to_the_cap()
    {
        var time = new ManualTimeProvider();
        var detector = new EndpointOutlierDetector("test", Options, time);
        Eject(detector, A);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.That(detector.IsEjected(A), Is.True);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(detector.IsEjected(A), Is.False, "back after the base ejection time");

        // The first connection after the period is the probe: one failure ejects again, for twice as long.
        Assert.That(detector.ReportFailure(A), Is.True);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.That(detector.IsEjected(A), Is.True);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(detector.IsEjected(A), Is.False);

        // The third ejection would last 90 s: the cap is 75 s.
        Assert.That(detector.ReportFailure(A), Is.True);
        time.Advance(TimeSpan.FromSeconds(75));
        Assert.That(detector.IsEjected(A), Is.False);
    }

    [Test]
    public void A_successful_probe_keeps_the_endpoint_and_forgets_its_ejections()
    {
        var time = new ManualTimeProvider();
        var detector = new EndpointOutlierDetector("test", Options, time);
        Eject(detector, A);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(detector.IsEjected(A), Is.False);

        detector.ReportSuccess(A);
        Assert.That(detector.ReportFailure(A), Is.False, "in rotation again: one failure is not enough");
        Assert.That(detector.ReportFailure(A), Is.False);
        Assert.That(detector.ReportFailure(A), Is.True);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(detector.IsEjected(A), Is.False, "the multiplier started again from one");
    }

    [Test]
    public void When_every_endpoint_is_ejected_none_is_skipped_and_one_that_answers_is_back_at_once()
    {
        var detector = new EndpointOutlierDetector("test", Options, new ManualTimeProvider());
        Eject(detector, A);
        Assert.That(detector.HasAvailable([A, B]), Is.True);
        Eject(detector, B);
        Assert.That(detector.HasAvailable([A, B]), Is.False);
        Assert.That(detector.HasAvailable([A]), Is.False);

        detector.ReportSuccess(B);
        Assert.That(detector.IsEjected(B), Is.False);
        Assert.That(detector.HasAvailable([A, B]), Is.True);
        Assert.That(detector.EjectedCount, Is.EqualTo(1));
    }

    [Test]
    public async Task The_rotation_skips_an_ejected_endpoint_and_tries_all_when_all_are_ejected()
    {
        var detector = new EndpointOutlierDetector("test", Options, new ManualTimeProvider());
        IPEndPoint[] endpoints = [A, B];
        var tried = new List<IPEndPoint>();
        bool bAlive = true;
        ValueTask<string?> Attempt(IPEndPoint endpoint, CancellationToken _)
        {
            tried.Add(endpoint);
            return ValueTask.FromResult(endpoint.Equals(B) && bAlive ? "B" : null);
        }

        for (int i = 0; i < 10; i++)
        {
            Assert.That(await detector.TryEachAsync<IPEndPoint, string>(endpoints, Attempt, CancellationToken.None), Is.EqualTo("B"));
        }

        Assert.That(tried.Count(e => e.Equals(A)), Is.EqualTo(3), "A is tried until its third failure ejects it");
        Assert.That(detector.IsEjected(A), Is.True);

        bAlive = false;
        tried.Clear();
        for (int i = 0; i < 3; i++)
        {
            Assert.That(await detector.TryEachAsync<IPEndPoint, string>(endpoints, Attempt, CancellationToken.None), Is.Null);
        }

        Assert.That(detector.IsEjected(B), Is.True);
        tried.Clear();
        Assert.That(await detector.TryEachAsync<IPEndPoint, string>(endpoints, Attempt, CancellationToken.None), Is.Null);
        Assert.That(tried, Is.EquivalentTo(new[] { A, B }), "with every endpoint ejected, every one is still tried");
    }

    [Test]
    public void Options_out_of_range_are_refused_with_the_option_named()
    {
        Assert.That(() => new EndpointOutlierDetector("test", new OutlierDetectionOptions { ConsecutiveFailures = 0 }),
            Throws.TypeOf<OptionsValidationException>().With.Message.Contains("OutlierDetectionOptions.ConsecutiveFailures"));
        Assert.That(() => new EndpointOutlierDetector("test", new OutlierDetectionOptions { BaseEjectionTime = TimeSpan.FromMinutes(10), MaxEjectionTime = TimeSpan.FromMinutes(1) }),
            Throws.TypeOf<OptionsValidationException>().With.Message.Contains("MaxEjectionTime"));
    }

    private static void Eject(EndpointOutlierDetector detector, IPEndPoint endpoint)
    {
        for (int i = 0; i < Options.ConsecutiveFailures; i++)
        {
            detector.ReportFailure(endpoint);
        }

        Assert.That(detector.IsEjected(endpoint), Is.True);
    }
}
