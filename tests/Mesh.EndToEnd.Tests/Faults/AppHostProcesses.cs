using Mesh.EndToEnd.Tests.Support;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>
/// A mesh of real Mesh.Host processes on 127.0.0.1 (the CA role and sidecars, all reading one control-plane file in a temporary
/// directory), each killed on dispose.
/// </summary>
internal sealed class AppHostProcesses : IDisposable
{
    private readonly List<ExternalProcess> _processes = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("mesh-faults-").FullName;

    public AppHostProcesses()
    {
        ConfigPath = Path.Combine(_directory, "mesh.json");
    }

    public string ConfigPath { get; }

    public void WriteConfig(string json) => File.WriteAllText(ConfigPath, json);

    public ExternalProcess Start(params string[] arguments)
    {
        ExternalProcess process = MeshHostProcess.Start(null, ["--config", ConfigPath, .. arguments]);
        _processes.Add(process);
        return process;
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
