using System.Text;

namespace Mesh.Tls.Authority;

/// <summary>
/// The CA's key directory on disk: a directory only its owner may enter (0700) holding one PEM file per CA certificate, the
/// certificate and its PKCS #8 key together (0600). Each file is written to a temporary name and renamed over the old one, so a
/// crash mid-write leaves the previous file or the new one, never half of either.
/// </summary>
internal static class CaKeyFiles
{
    public const string RootFile = "root.pem";
    public const string IntermediateFile = "intermediate.pem";

    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Reads a file's text, or null when it does not exist.</summary>
    public static string? TryRead(string directory, string name)
    {
        string path = Path.Combine(directory, name);
        if (!File.Exists(path))
        {
            return null;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~OwnerReadWrite) != 0)
        {
            // A key readable by others is already exposed; at least stop it from staying so.
            File.SetUnixFileMode(path, OwnerReadWrite);
        }

        return File.ReadAllText(path, Encoding.ASCII);
    }

    /// <summary>Writes a certificate and its key to <paramref name="name"/> atomically, owner-only.</summary>
    public static void Write(string directory, string name, string certificatePem, string privateKeyPem)
    {
        EnsureDirectory(directory);
        string path = Path.Combine(directory, name);
        string temporary = Path.Combine(directory, $".{name}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerReadWrite;
        }

        try
        {
            File.Delete(temporary);
            using (var stream = new FileStream(temporary, options))
            {
                byte[] text = Encoding.ASCII.GetBytes(certificatePem.TrimEnd('\n') + "\n" + privateKeyPem.TrimEnd('\n') + "\n");
                stream.Write(text);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static void EnsureDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        if (!Directory.Exists(directory))
        {
            // The parent is created with the default mode; only the key directory itself must be private.
            string? parent = Path.GetDirectoryName(Path.GetFullPath(directory));
            if (parent is not null)
            {
                Directory.CreateDirectory(parent);
            }

            Directory.CreateDirectory(directory, DirectoryMode);
        }

        if (File.GetUnixFileMode(directory) != DirectoryMode)
        {
            File.SetUnixFileMode(directory, DirectoryMode);
        }
    }
}
