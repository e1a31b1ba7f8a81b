using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mesh.Consul.Tests;

/// <summary>samples/Mesh.Host run as a real process (copied beside the tests by the project reference), killed on dispose.</summary>
internal sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HostProcess(Process process) => _process = process;

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

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static HostProcess Start(params string[] arguments) => Start(new Dictionary<string, string>(), arguments);

    /// <summary>Starts the host with extra environment variables.</summary>
    public static HostProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "Mesh.Host.dll"), .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        // The agent's address comes from the command line only: a CONSUL_* variable of the machine must not leak in.
        foreach (string name in info.Environment.Keys.Where(static k => k.StartsWith("CONSUL_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_gcServer"] = "0";
        foreach ((string name, string value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Mesh.Host did not start");
        var host = new HostProcess(process);
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Waits for the process to exit; fails with its output when it does not within 30 s (a hang, not a speed check).</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"Mesh.Host did not exit:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits until /health/ready answers 200; fails with the host's output if it exits or never gets there.</summary>
    public async Task WaitReadyAsync(IPEndPoint health)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && !HasExited)
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri($"http://{health}/health/ready"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Mesh.Host was not ready (exited: {HasExited}):\n{Output}");
    }

    /// <summary>
    /// Waits until the output holds a line for which <paramref name="match"/> is true (at least <paramref name="count"/> of them);
    /// fails with the output after 60 s or when the process exits (a hang, not a speed check).
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, int count = 1)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string[] lines = [.. Lines.Where(match)];
            if (lines.Length >= count)
            {
                return lines[count - 1];
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(60) || HasExited)
            {
                Assert.Fail($"Mesh.Host never logged {what} (exited: {HasExited}):\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The output so far, line by line.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_output)
            {
                return _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
        }
    }

    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
