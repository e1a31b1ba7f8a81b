using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Mesh.EndToEnd.Tests.Support;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>
/// A mesh of real Mesh.Host processes on 127.0.0.1 (the CA role and sidecars, all reading one control-plane file in a temporary
/// directory), each killed on dispose. Mesh.Host is built here when its build is missing or older than the libraries.
/// </summary>
internal sealed class AppHostProcesses : IDisposable
{
    private static readonly Lazy<string> s_hostDll = new(FindOrBuildHost);
    private readonly List<ExternalProcess> _processes = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("mesh-faults-").FullName;

    public AppHostProcesses()
    {
        ConfigPath = Path.Combine(_directory, "mesh.json");
    }

    public string ConfigPath { get; }

    public static HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(5) };

    public void WriteConfig(string json) => File.WriteAllText(ConfigPath, json);

    public ExternalProcess Start(params string[] arguments)
    {
        ExternalProcess process = ExternalProcess.Start("dotnet", [s_hostDll.Value, "--config", ConfigPath, .. arguments]);
        _processes.Add(process);
        return process;
    }

    /// <summary>The status of GET <paramref name="url"/>, or 0 when nothing answers.</summary>
    public static async Task<int> StatusAsync(string url)
    {
        try
        {
            using HttpResponseMessage response = await Http.GetAsync(url);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        catch (TaskCanceledException)
        {
            return 0;
        }
    }

    /// <summary>Waits until GET <paramref name="url"/> answers <paramref name="status"/>; the last status seen otherwise.</summary>
    public static async Task<int> WaitForStatusAsync(string url, int status, ExternalProcess process, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        int last;
        while ((last = await StatusAsync(url)) != status && clock.Elapsed < timeout && !process.HasExited)
        {
            await Task.Delay(100);
        }

        return last;
    }

    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static string FindOrBuildHost()
    {
        string? root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "samples", "Mesh.Host", "Mesh.Host.csproj")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar));
        }

        if (root is null)
        {
            Assert.Ignore("samples/Mesh.Host is not in a parent directory of the tests");
        }

        // The test's own build configuration (bin/<Configuration>/<tfm>/).
        string tfmDirectory = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        string configuration = Path.GetFileName(Path.GetDirectoryName(tfmDirectory)!);
        string tfm = Path.GetFileName(tfmDirectory);
        string project = Path.Combine(root!, "samples", "Mesh.Host");
        string dll = Path.Combine(project, "bin", configuration, tfm, "Mesh.Host.dll");
        string library = Path.Combine(AppContext.BaseDirectory, "Mesh.Tls.dll");
        if (!File.Exists(dll) || File.GetLastWriteTimeUtc(dll) < File.GetLastWriteTimeUtc(library))
        {
            using ExternalProcess build = ExternalProcess.Start("dotnet", "build", project, "-c", configuration, "--nologo", "-v", "q");
            var clock = Stopwatch.StartNew();
            while (!build.HasExited && clock.Elapsed < TimeSpan.FromMinutes(5))
            {
                Thread.Sleep(200);
            }

            if (!File.Exists(dll))
            {
                Assert.Fail("building samples/Mesh.Host failed:\n" + build.Output);
            }
        }

        return dll;
    }

    public void Dispose()
    {
        foreach (ExternalProcess process in _processes)
        {
            process.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
