using System.IO.Pipelines;

namespace Mesh.AspNetCore;

/// <summary>The decrypted side of a mesh connection as the transport Kestrel's HTTP layer reads and writes.</summary>
internal sealed class StreamDuplexPipe(Stream stream) : IDuplexPipe
{
    public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

    public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
}
