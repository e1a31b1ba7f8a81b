using System.Globalization;
using Mesh.Benchmarks.Sni;
using Mesh.ParseComparison;

// Parses ClientHello captures with two builds of Mesh.Sni in one process, alternating between them in short slices, and
// prints each build's time per parse and their ratio. On a shared host whose speed drifts by tens of per cent within a
// minute, two builds measured side by side see the same drift; separate benchmark runs do not.
//
// Usage: dotnet run -c Release --project benchmarks/Mesh.ParseComparison -- <before>/Mesh.Sni.dll <after>/Mesh.Sni.dll
//            [--span] [--captures gnutls-alpn,curl-default] [--slices 320]
// Build an earlier commit's library with: git worktree add /tmp/before <commit> && dotnet build /tmp/before/src/Mesh.Sni -c Release
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: <before Mesh.Sni.dll> <after Mesh.Sni.dll> [--span] [--captures a,b] [--slices N]");
    return 2;
}

bool fromSpan = args.Contains("--span");
int slices = int.Parse(Option(args, "--slices") ?? "320", CultureInfo.InvariantCulture);
string[] captures = Option(args, "--captures")?.Split(',') ?? CaptureCorpus.OneRecordCaptures();
ParserBuild[] builds = [ParserBuild.Load(args[0], fromSpan), ParserBuild.Load(args[1], fromSpan)];

PlacementRun.WarmUp(builds, SniCorpus.Read(captures[0]), TimeSpan.FromSeconds(2));
Console.WriteLine($"# {(fromSpan ? "span" : "sequence, one segment")}, {slices} slices of {PlacementRun.CallsPerSlice} parses per build, " +
    $"{PlacementRun.Placements} placements of the input; load {LoadAverage()}");
Console.WriteLine($"{"capture",-32} {"before ns",10} {"after ns",10} {"after/before",13}   spread over placements (before; after)");
foreach (string capture in captures)
{
    byte[] hello = SniCorpus.Read(capture);
    PlacementRun run = PlacementRun.Measure(builds, hello, slices);
    Console.WriteLine(
        $"{capture,-32} {run.MeanOfMinimums(0),10:F2} {run.MeanOfMinimums(1),10:F2} {run.MeanOfMinimums(1) / run.MeanOfMinimums(0),13:F3}   " +
        $"[{run.Spread(0)}]; [{run.Spread(1)}]");
}

Console.WriteLine($"# load {LoadAverage()}");
return 0;

static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

static string? Option(string[] args, string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}
