using System.Diagnostics;
using System.Reflection;

namespace Mesh.Tests.Shared;

/// <summary>
/// This test assembly run again as a child process (<c>dotnet Mesh.X.Tests.dll SCENARIO ARGS</c>; the assembly's own
/// <c>Main</c> dispatches the scenario), talking in lines: the test writes commands to its standard input and waits for lines
/// on its standard output. For what must not happen inside the test host, such as running out of descriptors.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly System.Text.StringBuilder _transcript = new();

    private ChildProcess(Process process) => _process = process;

    /// <summary>Starts <paramref name="scenario"/> of the calling test assembly in a child process.</summary>
    public static ChildProcess Start(string scenario, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Assembly.GetCallingAssembly().Location);
        start.ArgumentList.Add(scenario);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var child = new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
        child._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._transcript)
                {
                    child._transcript.Append("stderr: ").AppendLine(e.Data);
                }
            }
        };
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Sends one command line.</summary>
    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Reads lines until one starts with <paramref name="prefix"/> and returns the rest of it; fails with the transcript otherwise.</summary>
    public async Task<string> WaitForAsync(string prefix)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            string? line;
            try
            {
                line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                line = null;
            }

            if (line is null)
            {
                // Ended: wait for its standard error to be read to the end, so the failure shows why (an unhandled exception).
                string ended = _process.WaitForExit(TimeSpan.FromSeconds(5)) ? $"ended with exit code {_process.ExitCode}" : $"said nothing for {Patience.TotalSeconds} s";
                throw new AssertionException($"The child process {ended} before a line starting '{prefix}'.\n{Transcript}");
            }

            lock (_transcript)
            {
                _transcript.AppendLine(line);
            }

            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line[prefix.Length..].Trim();
            }
        }
    }

    /// <summary>Closes the child's standard input (its signal to stop) and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Patience);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>What the child said so far, for failure messages.</summary>
    public string Transcript
    {
        get
        {
            lock (_transcript)
            {
                return _transcript.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        // Process.Dispose leaves the streams read synchronously to their reader: close the pipes here, or they wait for finalizers.
        _process.StandardInput.Dispose();
        _process.StandardOutput.Dispose();
        _process.Dispose();
    }
}
