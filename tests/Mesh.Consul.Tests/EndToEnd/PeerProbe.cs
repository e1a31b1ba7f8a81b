using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Consul.Tests.EndToEnd;

/// <summary>Reads the certificate a mesh listener presents, in a real TLS handshake with the caller's leaf.</summary>
internal static class PeerProbe
{
    /// <summary>The serial (normalised hex) of the leaf the listener at <paramref name="port"/> presents to <paramref name="client"/>.</summary>
    public static async Task<string> PresentedSerialAsync(int port, string serverName, X509Certificate2 client)
    {
        string? serial = null;
        using var tcp = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tcp.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        await using var tls = new SslStream(tcp.GetStream());
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                ClientCertificates = [client],
                // The serial is what is checked here; the chain is the sidecars' business, checked by the calls themselves.
#pragma warning disable CA5359 // A probe that reads the presented certificate, not a client that trusts it.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    serial = certificate is null ? null : ConsulCluster.NormalizeSerial(certificate.GetSerialNumberString());
                    return true;
                },
#pragma warning restore CA5359
            }, timeout.Token);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            // The server may still refuse the client afterwards; the certificate it presented was seen.
        }

        return serial ?? throw new AssertionException($"The listener on port {port} presented no certificate");
    }
}
