using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Tls.Tests.Support;

/// <summary>Runs the Debian tools the tests compare against (openssl, gnutls) and writes PEM files for them.</summary>
internal static class Tools
{
    public static bool Exists(string name) =>
        File.Exists($"/usr/bin/{name}") || File.Exists($"/usr/local/bin/{name}");

    public static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    public static string WritePem(string directory, string name, IEnumerable<X509Certificate2> certificates)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllText(path, Mesh.Tls.Authority.MeshPem.WriteCertificates(certificates));
        return path;
    }

    public static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "mesh-tls-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
