namespace Mesh.Splicing;

/// <summary>How a burst of <c>splice(2)</c> calls stopped.</summary>
internal enum KernelStep
{
    /// <summary>The source has no more bytes for now; the pipe is empty.</summary>
    SourceDrained,

    /// <summary>The source sent its FIN; the pipe is empty.</summary>
    SourceEnded,

    /// <summary>The destination's send buffer is full; the pipe holds the pending bytes.</summary>
    DestinationFull,

    /// <summary>Reading the source failed (errno says how).</summary>
    SourceFailed,

    /// <summary>Writing the destination failed (errno says how); the pipe may hold bytes no one will take.</summary>
    DestinationFailed,

    /// <summary>The kernel cannot splice these descriptors; the pipe may hold pending bytes to send another way.</summary>
    Unsupported,

    /// <summary>A socket was disposed under the burst: the splice is being aborted.</summary>
    Aborted,
}
