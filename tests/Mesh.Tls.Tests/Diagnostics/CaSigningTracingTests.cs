using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Mesh.Diagnostics;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.Tests.Authority;
using Mesh.Tls.Tests.Support;

namespace Mesh.Tls.Tests.Diagnostics;

/// <summary>The span a tracer subscribed to <see cref="MeshActivitySources.Tls"/> sees for each CSR the CA signs or refuses.</summary>
[NonParallelizable]
public sealed class CaSigningTracingTests
{
    private const string Web = "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web";

    [Test]
    public void A_signed_csr_is_one_span_naming_the_identity_and_a_refused_one_ends_as_an_error_naming_the_rule()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MeshActivitySources.Tls,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using MeshCertificateAuthority ca = MeshCertificateAuthorityTests.NewCa();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        SignedCertificate signed = ca.SignCsr(TestCsr.Create(key, [Web]));
        Assert.That(() => ca.SignCsr(TestCsr.Create(key, ["spiffe://other.consul/ns/default/dc/dc1/svc/web"])),
            Throws.InstanceOf<CertificateSigningException>().With.Property(nameof(CertificateSigningException.Error)).EqualTo(CertificateSigningError.WrongTrustDomain));

        Activity[] signings = [.. spans.Where(s => s.OperationName == MeshActivitySources.CaSign)];
        Assert.That(signings, Has.Length.EqualTo(2));
        Assert.Multiple(() =>
        {
            Assert.That(signings[0].Kind, Is.EqualTo(ActivityKind.Internal));
            Assert.That(signings[0].Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(signings[0].GetTagItem("mesh.ca.spiffe_id"), Is.EqualTo(Web));
            Assert.That(signings[0].GetTagItem("mesh.ca.not_after"), Is.EqualTo(signed.NotAfter.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(signings[1].Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(signings[1].GetTagItem("error.type"), Is.EqualTo("wrong_trust_domain"));
            Assert.That(signings[1].StatusDescription, Does.Contain("other.consul"));
        });
    }
}
