namespace Mesh.Splicing;

/// <summary>The two descriptors of a kernel pipe used by one splice direction (<see cref="KernelPipePool"/>); <see cref="IsValid"/> is false for none.</summary>
/// <param name="ReadFd">The read end.</param>
/// <param name="WriteFd">The write end.</param>
public readonly record struct KernelPipe(int ReadFd, int WriteFd)
{
    /// <summary>Whether this is a pipe (the default value is none).</summary>
    public bool IsValid => WriteFd > 0;
}
