namespace Mesh.Shared;

/// <summary>
/// Process-wide connection IDs for log lines, so every line about one connection, at every hop of a process, can be found
/// together. A number, not a GUID: cheap to make and short to read.
/// </summary>
internal static class ConnectionIds
{
    private static long s_last;

    /// <summary>The next ID.</summary>
    public static long Next() => Interlocked.Increment(ref s_last);
}
