using System.Net;
using Mesh.EndToEnd.Tests.Support;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>One named role of samples/Mesh.Host run as a real process, its console kept, killed on dispose.</summary>
internal sealed class HostProcess : IDisposable
{
    private readonly ExternalProcess _process;

    private HostProcess(string name, ExternalProcess process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public string Output => _process.Output;

    public bool HasExited => _process.HasExited;

    public static HostProcess Start(string name, IReadOnlyDictionary<string, string?>? environment, params string[] arguments) =>
        new(name, MeshHostProcess.Start(environment, arguments));

    public static int FreePort() => MeshHostProcess.FreePort();

    /// <summary>Waits (up to <paramref name="timeout"/>) for <paramref name="text"/> in the output: a pipe delivers lines late.</summary>
    public Task<bool> WaitForOutputAsync(string text, TimeSpan timeout) => _process.WaitForOutputAsync(text, timeout);

    /// <summary>Polls the host's /health/ready until it answers 200; fails with the host's output if it exits or never gets there.</summary>
    public Task WaitReadyAsync(IPEndPoint health) => MeshHostProcess.WaitReadyAsync(_process, Name, health);

    /// <summary>SIGKILL: no draining, no goodbye, as a crash or an OOM kill.</summary>
    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();
}
