namespace Mesh.Diagnostics;

/// <summary>
/// Process-wide connection IDs for log lines (the <c>ConnectionId</c> field): every Mesh component of a process — gateways,
/// sidecars, in-process services — numbers its connections from this one sequence, so an ID names one connection whichever
/// component logged it, and every line about it, at every hop of the process, can be found together. A number, not a GUID:
/// cheap to make and short to read. A component of your own that logs beside Mesh's takes its IDs here too.
/// </summary>
public static class ConnectionIds
{
    private static long s_last;

    /// <summary>The next ID: unique within the process, increasing.</summary>
    public static long Next() => Interlocked.Increment(ref s_last);
}
