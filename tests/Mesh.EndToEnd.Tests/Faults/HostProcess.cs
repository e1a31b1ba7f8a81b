using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>One role of samples/Mesh.Host run as a real process (dotnet exec), its console kept, killed on dispose.</summary>
internal sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HostProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

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

    /// <summary>The host's assembly, built beside this test project's configuration (the project references it, unreferenced).</summary>
    public static string HostAssembly
    {
        get
        {
            // bin/<Configuration>/<tfm>/ of this project → samples/Mesh.Host/bin/<Configuration>/<tfm>/Mesh.Host.dll
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string tfm = output.Name;
            string configuration = output.Parent!.Name;
            DirectoryInfo repository = output.Parent!.Parent!.Parent!.Parent!.Parent!;
            return Path.Combine(repository.FullName, "samples", "Mesh.Host", "bin", configuration, tfm, "Mesh.Host.dll");
        }
    }

    public static HostProcess Start(string name, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(HostAssembly);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment["DOTNET_TieredPGO"] = "0";
        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
        {
            info.Environment[variable.Key] = variable.Value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"{name} did not start");
        var host = new HostProcess(name, process);
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Polls the host's /health/ready until it answers 200; fails with the host's output if it exits or never gets there.</summary>
    public async Task WaitReadyAsync(IPEndPoint health)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                Assert.Fail($"{Name} exited ({_process.ExitCode}) before it was ready:\n{Output}");
            }

            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri($"http://{health}/health/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        Assert.Fail($"{Name} was not ready within 60 s:\n{Output}");
    }

    /// <summary>SIGKILL: no draining, no goodbye, as a crash or an OOM kill.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
