using Mesh.Identity;
using Mesh.Tls.Authority;

namespace Mesh.Tls.Tests.Authority;

/// <summary>The CA keeps its root (and intermediate) across restarts: in a directory it owns, or supplied by the operator.</summary>
public sealed class CaKeyPersistenceTests
{
    private static readonly SpiffeId Web = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/web");
    private string _directory = null!;

    [SetUp]
    public void CreateDirectory() => _directory = Path.Combine(Path.GetTempPath(), "mesh-ca-" + Guid.NewGuid().ToString("N"), "ca");

    [TearDown]
    public void DeleteDirectory()
    {
        string parent = Path.GetDirectoryName(_directory)!;
        if (Directory.Exists(parent))
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void A_ca_started_again_on_its_key_directory_keeps_its_root_and_signing_key(bool useIntermediate)
    {
        string rootThumbprint;
        byte[] signingKeyId;
        using (var first = new MeshCertificateAuthority(Options(useIntermediate)))
        {
            rootThumbprint = first.ActiveRoot.Certificate.Thumbprint;
            signingKeyId = first.ActiveSigningKeyId.ToArray();
        }

        using var second = new MeshCertificateAuthority(Options(useIntermediate));

        Assert.Multiple(() =>
        {
            Assert.That(second.ActiveRoot.Certificate.Thumbprint, Is.EqualTo(rootThumbprint));
            Assert.That(second.ActiveSigningKeyId.ToArray(), Is.EqualTo(signingKeyId), "leaves issued before the restart keep verifying");
            Assert.That(second.Roots, Has.Count.EqualTo(1));
        });
        Assert.DoesNotThrow(() => second.IssueLeaf(Web).Certificate.Dispose(), "the loaded key signs");
    }

    [Test]
    public void Key_files_are_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("Unix permissions.");
            return;
        }

        using var ca = new MeshCertificateAuthority(Options(useIntermediate: true));

        Assert.That(File.GetUnixFileMode(_directory), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        string[] files = Directory.GetFiles(_directory);
        Assert.That(files.Select(Path.GetFileName), Is.EquivalentTo(new[] { "root.pem", "intermediate.pem" }), "no temporary file is left behind");
        Assert.That(files.Select(File.GetUnixFileMode), Is.All.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void A_root_supplied_by_the_operator_is_the_active_root()
    {
        string certificatePem;
        string keyPem;
        string thumbprint;
        using (var elsewhere = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Web.TrustDomain }))
        {
            certificatePem = elsewhere.ActiveRoot.ToPem();
            keyPem = MeshPem.WritePkcs8PrivateKey(elsewhere.ActiveRoot.RootKey.Key);
            thumbprint = elsewhere.ActiveRoot.Certificate.Thumbprint;
        }

        var options = new MeshCaOptions { TrustDomain = Web.TrustDomain, RootCertificatePem = certificatePem, RootPrivateKeyPem = keyPem };
        using var ca = new MeshCertificateAuthority(options);

        Assert.That(ca.ActiveRoot.Certificate.Thumbprint, Is.EqualTo(thumbprint));
        Assert.DoesNotThrow(() => ca.IssueLeaf(Web).Certificate.Dispose());
    }

    [Test]
    public void A_root_key_that_does_not_match_its_certificate_is_refused()
    {
        using var one = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Web.TrustDomain });
        using var other = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Web.TrustDomain });
        var options = new MeshCaOptions
        {
            TrustDomain = Web.TrustDomain,
            RootCertificatePem = one.ActiveRoot.ToPem(),
            RootPrivateKeyPem = MeshPem.WritePkcs8PrivateKey(other.ActiveRoot.RootKey.Key),
        };

        var refused = Assert.Throws<ArgumentException>(() => new MeshCertificateAuthority(options).Dispose());
        Assert.That(refused!.Message, Does.Contain("does not match"));
    }

    [Test]
    public void A_damaged_key_file_fails_start_up_with_a_message_naming_it()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, "root.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");

        var refused = Assert.Throws<InvalidOperationException>(() => new MeshCertificateAuthority(Options(false)).Dispose());
        Assert.That(refused!.Message, Does.Contain(Path.Combine(_directory, "root.pem")));
    }

    private MeshCaOptions Options(bool useIntermediate) => new()
    {
        TrustDomain = Web.TrustDomain,
        UseIntermediate = useIntermediate,
        KeyDirectory = _directory,
    };
}
