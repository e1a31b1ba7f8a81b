using System.Runtime.InteropServices;

namespace Mesh.Interop.Linux;

/// <summary>struct pollfd of poll(2): the same layout on every Linux architecture.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short ReturnedEvents;
}
