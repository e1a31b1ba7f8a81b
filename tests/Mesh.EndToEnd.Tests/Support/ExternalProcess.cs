using System.Diagnostics;
using System.Text;

namespace Mesh.EndToEnd.Tests.Support;

/// <summary>A real peer (openssl, haproxy…) run as a child process, with its output kept and the process killed on dispose.</summary>
internal sealed class ExternalProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _errorOutput = new();

    private ExternalProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>What the process wrote to stderr alone (it is in <see cref="Output"/> too).</summary>
    public string ErrorOutput
    {
        get
        {
            lock (_output)
            {
                return _errorOutput.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public StreamWriter Input => _process.StandardInput;

    public static bool IsInstalled(string tool) =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(dir => File.Exists(Path.Combine(dir, tool)))
        || File.Exists(Path.Combine("/usr/sbin", tool));

    public static ExternalProcess Start(string tool, params string[] arguments) =>
        Start(tool, new Dictionary<string, string?>(), arguments);

    /// <summary>Starts <paramref name="tool"/> with <paramref name="environment"/> set (a null value removes the variable).</summary>
    public static ExternalProcess Start(string tool, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        string path = File.Exists(Path.Combine("/usr/sbin", tool)) ? Path.Combine("/usr/sbin", tool) : tool;
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach ((string name, string? value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"{tool} did not start");
        var external = new ExternalProcess(process);
        process.OutputDataReceived += (_, e) => external.Append(e.Data);
        process.ErrorDataReceived += (_, e) => external.Append(e.Data, isError: true);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return external;
    }

    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (Output.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            if (_process.HasExited)
            {
                await Task.Delay(100);
                return Output.Contains(text, StringComparison.Ordinal);
            }

            await Task.Delay(50);
        }

        return false;
    }

    /// <summary>Waits for the process to exit; its exit code, or null if it still runs after <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            // Also waits for the end of both output streams, so Output and ErrorOutput are complete.
            await _process.WaitForExitAsync(cancellation.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private void Append(string? line, bool isError = false)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            if (isError)
            {
                _errorOutput.AppendLine(line);
            }
        }
    }

    /// <summary>SIGKILL to the process and its children, waiting for the exit.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
