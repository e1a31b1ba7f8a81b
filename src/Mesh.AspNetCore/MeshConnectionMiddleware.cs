using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Mesh.Intentions;
using Mesh.Tls.InProcess;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Mesh.AspNetCore;

/// <summary>
/// Kestrel connection middleware: terminates mesh mTLS, validates the caller's X.509-SVID, asks the intentions (L4) and resets a
/// refused or denied caller as the sidecar does; an allowed caller's identity becomes the <see cref="IMeshPeerFeature"/>.
/// A connection whose intention has HTTP permissions is let in; <c>UseMeshAuthorization()</c> decides each of its requests.
/// </summary>
internal sealed class MeshConnectionMiddleware(ConnectionDelegate next, MeshService mesh)
{
    // RFC 9113 §3.4: the client connection preface of HTTP/2 with prior knowledge.
    private static readonly byte[] Http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private static readonly byte[] H2 = "h2"u8.ToArray();
    private static readonly byte[] Http11 = "http/1.1"u8.ToArray();

    public async Task OnConnectionAsync(ConnectionContext context)
    {
        Socket? socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        MeshHttpAdmission admission;
        try
        {
            // The admission logs and traces a refusal or a denial itself (one line each, with Kestrel's addresses); the socket
            // stays Kestrel's: the reset below is done here.
            admission = await mesh.AdmitHttpConnectionAsync(new DuplexPipeStream(context.Transport), context.RemoteEndPoint, context.LocalEndPoint,
                context.ConnectionClosed).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Reset(socket, context);
            return;
        }

        MeshStream stream = admission.Stream;
        await using (stream.ConfigureAwait(false))
        {
            if (!admission.IsAdmitted)
            {
                Reset(socket, context);
                return;
            }

            IntentionDecision decision = admission.Decision;
            var pipe = new StreamDuplexPipe(stream);
            await using (pipe.ConfigureAwait(false))
            {
                await ServeAsync(context, stream, decision, pipe).ConfigureAwait(false);
            }
        }
    }

    private async Task ServeAsync(ConnectionContext context, MeshStream stream, IntentionDecision decision, StreamDuplexPipe pipe)
    {
        ReadOnlyMemory<byte> protocol = await DetectProtocolAsync(pipe.Input, context.ConnectionClosed).ConfigureAwait(false);
        context.Features.Set<IMeshPeerFeature>(new MeshPeerFeature(stream.Peer, stream.PeerService, decision));
        var tls = new MeshTlsConnectionFeature(null, protocol);
        context.Features.Set<ITlsConnectionFeature>(tls);
        context.Features.Set<ITlsApplicationProtocolFeature>(tls);

        IDuplexPipe transport = context.Transport;
        context.Transport = pipe;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Transport = transport;
        }
    }

    // Peeks (never consumes) until the bytes either are the HTTP/2 preface or cannot be.
    private static async ValueTask<ReadOnlyMemory<byte>> DetectProtocolAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                return Http11;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            (bool prefix, int length) = MatchPreface(buffer);
            if (!prefix || length == Http2Preface.Length || result.IsCompleted)
            {
                // Nothing consumed or examined: Kestrel's first read gets these same bytes at once.
                input.AdvanceTo(buffer.Start);
                return prefix && length == Http2Preface.Length ? H2 : Http11;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static (bool Prefix, int Length) MatchPreface(ReadOnlySequence<byte> buffer)
    {
        int length = (int)Math.Min(buffer.Length, Http2Preface.Length);
        Span<byte> head = stackalloc byte[Http2Preface.Length];
        buffer.Slice(0, length).CopyTo(head);
        return (head[..length].SequenceEqual(Http2Preface.AsSpan(0, length)), length);
    }

    // Consul leaves intentions from config entries without an ID; the log names them by kind.

    // A reset, not a FIN: the caller must never take a refusal for a clean end of stream.
    private static void Reset(Socket? socket, ConnectionContext context)
    {
        if (socket is not null)
        {
            try
            {
                socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
                socket.Close();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }

        context.Abort(new ConnectionAbortedException("Refused by the mesh."));
    }
}
