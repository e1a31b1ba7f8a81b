using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Mesh.EndToEnd.Tests.Support;

/// <summary>
/// samples/Mesh.Host run as a real process: the project reference copies the host beside the tests, so every test runs the
/// host of its own build. Also the loopback helpers those tests share (free ports, health polling).
/// </summary>
internal static class MeshHostProcess
{
    public static HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Starts the host with <paramref name="arguments"/>; <paramref name="environment"/> values of null remove a variable.</summary>
    public static ExternalProcess Start(IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        var variables = new Dictionary<string, string?> { ["DOTNET_gcServer"] = "0", ["DOTNET_TieredPGO"] = "0" };
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }

        return ExternalProcess.Start("dotnet", variables, ["exec", Path.Combine(AppContext.BaseDirectory, "Mesh.Host.dll"), .. arguments]);
    }

    /// <summary>A port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>The status of GET <paramref name="url"/>, or 0 when nothing answers.</summary>
    public static async Task<int> StatusAsync(string url)
    {
        try
        {
            using HttpResponseMessage response = await Http.GetAsync(url);
            return (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
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

    /// <summary>Waits for the host's /health/ready to answer 200; fails with its output if it exits or never gets there.</summary>
    public static async Task WaitReadyAsync(ExternalProcess process, string name, IPEndPoint health)
    {
        int status = await WaitForStatusAsync($"http://{health}/health/ready", 200, process, TimeSpan.FromSeconds(60));
        if (status != 200)
        {
            Assert.Fail($"{name} was not ready (last status {status}, exited: {process.HasExited}):\n{process.Output}");
        }
    }
}
