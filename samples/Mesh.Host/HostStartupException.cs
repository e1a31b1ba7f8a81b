namespace Mesh.Host;

/// <summary>A start-up failure the operator can fix: its message is the one line the host prints, with its exit code.</summary>
internal sealed class HostStartupException : Exception
{
    public HostStartupException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException) => ExitCode = exitCode;

    public HostStartupException()
        : this(HostExitCodes.Unexpected, "The host could not start.")
    {
    }

    public HostStartupException(string message)
        : this(HostExitCodes.Unexpected, message)
    {
    }

    public HostStartupException(string message, Exception innerException)
        : this(HostExitCodes.Unexpected, message, innerException)
    {
    }

    /// <summary>One of <see cref="HostExitCodes"/>.</summary>
    public int ExitCode { get; }

    /// <summary>A configuration error: the file lacks what the role needs.</summary>
    public static HostStartupException Configuration(string message) => new(HostExitCodes.Configuration, message);

    /// <summary>An address the role must listen on is taken; <paramref name="what"/> says which listener it is.</summary>
    public static HostStartupException AddressInUse(string what, System.Net.EndPoint address, Exception? innerException = null) =>
        new(HostExitCodes.AddressInUse, $"{what} cannot listen on {address}: the address is already in use (another process holds it; stop it or change the address).", innerException);
}
