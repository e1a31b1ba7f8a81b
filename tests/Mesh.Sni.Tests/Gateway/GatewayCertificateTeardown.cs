namespace Mesh.Sni.Tests.Gateway;

/// <summary>Disposes the gateway tests' backend certificate after every fixture of this namespace has run.</summary>
[SetUpFixture]
public sealed class GatewayCertificateTeardown
{
    [OneTimeTearDown]
    public static void DisposeCertificate() => MeshGatewayTests.DisposeCertificate();
}
