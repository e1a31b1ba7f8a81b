using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Mesh.Demo;

/// <summary>One process of the demo topology, with its log lines kept for the narration.</summary>
internal sealed class DemoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<LogLine> _lines = new();

    private DemoProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public IEnumerable<LogLine> Lines => _lines;

    public bool HasExited => _process.HasExited;

    /// <summary>The child's process ID: what the demo prints, and what its health answers must carry to count as its own.</summary>
    public int Id => _process.Id;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Why the process stopped before it was ready: its exit code and its last lines, its own words on what went wrong.</summary>
    public string DescribeEarlyExit(int lines)
    {
        // The process has exited: this waits for its output readers to deliver the last lines it wrote.
        _process.WaitForExit();
        var text = new System.Text.StringBuilder($"{Name} (pid {Id}) exited with code {ExitCode} before it was ready");
        foreach (LogLine line in _lines.TakeLast(lines))
        {
            text.Append("\n   ").Append(Name).Append(": ").Append(line.Message);
        }

        return text.ToString();
    }

    public static DemoProcess Start(string name, string assembly, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment["MESH_LOG_FORMAT"] = "json";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
        var demo = new DemoProcess(name, process);
        process.OutputDataReceived += (_, e) => demo.Receive(e.Data);
        process.ErrorDataReceived += (_, e) => demo.Receive(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return demo;
    }

    private void Receive(string? data)
    {
        if (string.IsNullOrWhiteSpace(data))
        {
            return;
        }

        _lines.Enqueue(LogLine.Parse(Name, data));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM lets the host drain; a process that does not stop in time is killed.
            using (Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }
}

/// <summary>A log line of a demo process: JSON from the console formatter, or plain text.</summary>
internal sealed record LogLine(string Process, DateTimeOffset Seen, int EventId, string Level, string Message, IReadOnlyDictionary<string, string> State)
{
    public static LogLine Parse(string process, string text)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            JsonElement root = document.RootElement;
            var state = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("State", out JsonElement stateElement) && stateElement.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty property in stateElement.EnumerateObject())
                {
                    state[property.Name] = property.Value.ToString();
                }
            }

            return new LogLine(
                process,
                DateTimeOffset.UtcNow,
                root.TryGetProperty("EventId", out JsonElement id) && id.TryGetInt32(out int eventId) ? eventId : 0,
                root.TryGetProperty("LogLevel", out JsonElement level) ? level.GetString() ?? "" : "",
                root.TryGetProperty("Message", out JsonElement message) ? message.GetString() ?? "" : text,
                state);
        }
        catch (JsonException)
        {
            return new LogLine(process, DateTimeOffset.UtcNow, 0, "", text, new Dictionary<string, string>());
        }
    }

    public string Get(string key) => State.TryGetValue(key, out string? value) ? value : "?";
}
