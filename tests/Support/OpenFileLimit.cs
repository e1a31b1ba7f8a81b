using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mesh.Tests.Support;

/// <summary>
/// Lowers the process's open-file limit (<c>RLIMIT_NOFILE</c>) to its lowest free descriptor, so that the next descriptor it
/// opens (an <c>accept(2)</c>) fails with <c>EMFILE</c> as in a process at its cap; <see cref="Dispose"/> puts the limit back.
/// Linux only (<c>/proc/self/fd</c>). Compiled into each test project that needs it.
/// </summary>
internal sealed class OpenFileLimit : IDisposable
{
    private const int RlimitNoFile = 7;

    private RLimit _original;

    private OpenFileLimit(RLimit original)
    {
        _original = original;
    }

    /// <summary>Lowers the limit so that no descriptor below it is free.</summary>
    public static OpenFileLimit Exhaust()
    {
        Assert.That(GetRLimit(RlimitNoFile, out RLimit original), Is.Zero, "getrlimit(RLIMIT_NOFILE)");

        // What runs while the limit is low is compiled before: with W^X the JIT maps a new method's code through a new file
        // descriptor, and the process fails with "out of memory" when it cannot open one.
        RuntimeHelpers.PrepareMethod(typeof(OpenFileLimit).GetMethod(nameof(Dispose))!.MethodHandle);
        var lowered = new OpenFileLimit(original);
        var limit = new RLimit { Current = (ulong)LowestFreeDescriptor(), Maximum = original.Maximum };
        Assert.That(SetRLimit(RlimitNoFile, ref limit), Is.Zero, "setrlimit(RLIMIT_NOFILE) to the lowest free descriptor");
        return lowered;
    }

    /// <summary>Puts the limit back as it was.</summary>
    public void Dispose() => Assert.That(SetRLimit(RlimitNoFile, ref _original), Is.Zero, "setrlimit(RLIMIT_NOFILE) back to the original limit");

    private static int LowestFreeDescriptor()
    {
        var used = new HashSet<int>();
        foreach (string fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            used.Add(int.Parse(Path.GetFileName(fd), System.Globalization.CultureInfo.InvariantCulture));
        }

        int lowest = 0;
        while (used.Contains(lowest))
        {
            lowest++;
        }

        return lowest;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    // DllImport keeps the test projects free of unsafe code; both signatures are blittable.
    [DllImport("libc", EntryPoint = "getrlimit")]
    private static extern int GetRLimit(int resource, out RLimit limit);

    [DllImport("libc", EntryPoint = "setrlimit")]
    private static extern int SetRLimit(int resource, ref RLimit limit);
}
