namespace Mesh.ControlPlane.File;

/// <summary>
/// The control-plane file cannot be used; the message names the file, the field (as a JSON path such as
/// <c>Services[2].Connect.SidecarService.Port</c>) and the rule it breaks.
/// </summary>
public sealed class ControlPlaneFileException : Exception
{
    /// <summary>Creates an exception for a field of a file.</summary>
    public ControlPlaneFileException(string path, string field, string problem, Exception? innerException = null)
        : base($"Control-plane file '{path}': {field}: {problem}", innerException)
    {
        FilePath = path;
        Field = field;
    }

    /// <summary>The file that was read.</summary>
    public string FilePath { get; }

    /// <summary>The JSON path of the offending field.</summary>
    public string Field { get; }
}
