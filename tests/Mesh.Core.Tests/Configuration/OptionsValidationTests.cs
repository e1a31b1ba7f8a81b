using System.Net.Sockets;
using Mesh.Endpoints;
using Mesh.Splicing;
using Microsoft.Extensions.Options;

namespace Mesh.Core.Tests.Configuration;

/// <summary>
/// Options built directly into a component fail with the same <see cref="OptionsValidationException"/> and messages as the
/// public validators give a host that registers them with <c>ValidateOnStart</c>.
/// </summary>
public sealed class OptionsValidationTests
{
    [Test]
    public void Splice_options_out_of_range_fail_a_splice_with_the_validators_messages()
    {
        var options = new SpliceOptions
        {
            MaxBufferedBytesPerDirection = 100,
            IdleTimeout = TimeSpan.Zero,
            DrainTimeout = TimeSpan.FromSeconds(-1),
        };
        var splicer = new TcpSplicer();
        using var a = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var b = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        OptionsValidationException? refused = Assert.Throws<OptionsValidationException>(() => _ = splicer.SpliceAsync(a, b, options: options));

        Assert.That(refused!.OptionsType, Is.EqualTo(typeof(SpliceOptions)));
        Assert.That(refused.Failures, Has.Some.StartsWith("SpliceOptions.MaxBufferedBytesPerDirection: must be between 1024")
            .And.Some.StartsWith("SpliceOptions.IdleTimeout: must be positive")
            .And.Some.StartsWith("SpliceOptions.DrainTimeout: must be positive"));
        Assert.That(refused.Failures, Is.EqualTo(AtStart(options, new SpliceOptionsValidator())));
    }

    [Test]
    public void Outlier_detection_options_out_of_range_fail_the_detector_with_the_validators_messages()
    {
        var options = new OutlierDetectionOptions { ConsecutiveFailures = 0, BaseEjectionTime = TimeSpan.Zero };

        OptionsValidationException? refused = Assert.Throws<OptionsValidationException>(() => _ = new EndpointOutlierDetector("test", options));

        Assert.That(refused!.Failures, Has.Some.StartsWith("OutlierDetectionOptions.ConsecutiveFailures: must be at least 1 (it is 0)")
            .And.Some.StartsWith("OutlierDetectionOptions.BaseEjectionTime: must be positive"));
        Assert.That(refused.Failures, Is.EqualTo(AtStart(options, new OutlierDetectionOptionsValidator())));
    }

    [Test]
    public void A_validator_for_nested_options_names_them_by_their_path()
    {
        ValidateOptionsResult result = new SpliceOptionsValidator("HostOptions.Splice").Validate(null, new SpliceOptions { IdleTimeout = TimeSpan.Zero });

        Assert.That(result.Failures, Is.EqualTo(new[] { "HostOptions.Splice.IdleTimeout: must be positive, or Timeout.InfiniteTimeSpan for none (it is 00:00:00)." }));
    }

    [Test]
    public void Default_options_pass()
    {
        Assert.That(new SpliceOptionsValidator().Validate(null, SpliceOptions.Default).Succeeded, Is.True);
        Assert.That(new OutlierDetectionOptionsValidator().Validate(null, OutlierDetectionOptions.Default).Succeeded, Is.True);
    }

    /// <summary>What the public validator reports, as a host that registers it with <c>ValidateOnStart</c> sees it.</summary>
    private static IEnumerable<string> AtStart<T>(T options, IValidateOptions<T> validator)
        where T : class
    {
        ValidateOptionsResult result = validator.Validate(Options.DefaultName, options);
        Assert.That(result.Failed, Is.True);
        return result.Failures!;
    }
}
