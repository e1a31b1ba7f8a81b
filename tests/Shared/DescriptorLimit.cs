using System.Runtime.InteropServices;

namespace Mesh.Tests.Shared;

/// <summary>
/// Lowers this process's open-file limit (RLIMIT_NOFILE) so that no descriptor is left, as in a process at its cap, and raises
/// it back. Only a child process started by <see cref="ChildProcess"/> does this: in a test host it would fail whatever else
/// that host opens meanwhile, from an assembly load to the runner's own files.
/// </summary>
internal static class DescriptorLimit
{
    private const int RlimitNoFile = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    // DllImport keeps the test projects free of unsafe code; every signature is blittable.
    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRLimit(int resource, out RLimit limit);

    [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static extern int SetRLimit(int resource, ref RLimit limit);

    [DllImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static extern int Dup(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);

    /// <summary>Sets the soft limit to the lowest free descriptor: every new descriptor fails with EMFILE. Returns the old limit.</summary>
    public static ulong Exhaust()
    {
        Check(GetRLimit(RlimitNoFile, out RLimit original), "getrlimit");

        // dup(2) returns the lowest free descriptor, which is where the limit must sit for none below it to be free.
        int lowestFree = Dup(0);
        Check(lowestFree, "dup");
        Check(Close(lowestFree), "close");
        var limit = new RLimit { Current = (ulong)lowestFree, Maximum = original.Maximum };
        Check(SetRLimit(RlimitNoFile, ref limit), "setrlimit");
        return original.Current;
    }

    /// <summary>
    /// The child's side of the out-of-descriptors conversation (<see cref="ChildProcess"/>): says <c>listening PORT</c>, runs out
    /// of descriptors at the next line it reads (<c>exhausted</c>), gets them back at the one after (<c>restored</c>) and returns
    /// when its standard input ends.
    /// </summary>
    public static void ExhaustAndRestoreOnCommand(int port)
    {
        Console.WriteLine($"listening {port}");
        _ = Console.ReadLine();
        ulong limit = Exhaust();
        Console.WriteLine("exhausted");

        _ = Console.ReadLine();
        Restore(limit);
        Console.WriteLine("restored");

        while (Console.ReadLine() is not null)
        {
        }
    }

    /// <summary>Puts back the soft limit <see cref="Exhaust"/> returned.</summary>
    public static void Restore(ulong current)
    {
        Check(GetRLimit(RlimitNoFile, out RLimit limit), "getrlimit");
        limit.Current = current;
        Check(SetRLimit(RlimitNoFile, ref limit), "setrlimit");
    }

    private static void Check(int result, string call)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
