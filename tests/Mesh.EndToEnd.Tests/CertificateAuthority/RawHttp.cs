using System.Net.Sockets;
using System.Text;

namespace Mesh.EndToEnd.Tests.CertificateAuthority;

/// <summary>HTTP/1.1 by hand, for requests a well-behaved client refuses to send (lying lengths, endless bodies, huge headers).</summary>
internal static class RawHttp
{
    /// <summary>Sends <paramref name="head"/>, then body bytes from <paramref name="body"/> until the server answers or closes; returns the status code.</summary>
    public static async Task<(int Status, string Response)> SendAsync(Uri address, string head, IEnumerable<ReadOnlyMemory<byte>>? body = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        NetworkStream stream = client.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token);
        Task<string> reading = ReadResponseAsync(stream, timeout.Token);
        foreach (ReadOnlyMemory<byte> chunk in body ?? [])
        {
            if (reading.IsCompleted)
            {
                break;
            }

            try
            {
                await stream.WriteAsync(chunk, timeout.Token);
            }
            catch (IOException)
            {
                break; // The server closed the connection after answering: what a refusal looks like.
            }
        }

        string response = await reading;
        string[] statusLine = response.Split("\r\n", 2)[0].Split(' ');
        return (statusLine.Length > 1 && int.TryParse(statusLine[1], out int status) ? status : 0, response);
    }

    private static async Task<string> ReadResponseAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                int read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                string text = Encoding.ASCII.GetString(received.GetBuffer(), 0, (int)received.Length);
                int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0 && HasWholeBody(text, end))
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // A reset after the answer still leaves the answer.
        }

        return Encoding.ASCII.GetString(received.GetBuffer(), 0, (int)received.Length);
    }

    private static bool HasWholeBody(string text, int headEnd)
    {
        if (text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
        {
            return true; // The last chunk of a chunked body.
        }

        foreach (string line in text[..headEnd].Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return text.Length - headEnd - 4 >= int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return false;
    }

    public static IEnumerable<ReadOnlyMemory<byte>> Repeat(int chunkSize, long total)
    {
        byte[] chunk = new byte[chunkSize];
        Array.Fill(chunk, (byte)'A');
        for (long sent = 0; sent < total; sent += chunkSize)
        {
            yield return chunk;
        }
    }
}
