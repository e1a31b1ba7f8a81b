namespace Mesh.Splicing;

/// <summary>The two descriptors of a kernel pipe used by one splice direction; <see cref="IsValid"/> is false for none.</summary>
internal readonly record struct KernelPipe(int ReadFd, int WriteFd)
{
    public bool IsValid => WriteFd > 0;
}
