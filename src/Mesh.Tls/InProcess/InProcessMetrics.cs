using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mesh.Diagnostics;

namespace Mesh.Tls.InProcess;

/// <summary>The in-process mesh's handshake counter and duration (<c>mesh.tls.handshakes</c>, <c>mesh.tls.handshake.duration</c>).</summary>
internal static class InProcessMetrics
{
    private static readonly Meter s_meter = new(MeshMetrics.TlsMeter);
    private static readonly Counter<long> s_handshakes = s_meter.CreateCounter<long>(MeshMetrics.TlsHandshakes, description: "mTLS handshakes");
    private static readonly Histogram<double> s_duration = s_meter.CreateHistogram<double>(MeshMetrics.TlsHandshakeDuration, unit: "s", description: "mTLS handshake duration");

    public const string Client = "client";
    public const string Server = "server";

    public static void Handshake(string side, string result, long startTimestamp)
    {
        var tags = new TagList { { MeshMetrics.SideTag, side }, { MeshMetrics.ResultTag, result } };
        s_handshakes.Add(1, tags);
        s_duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
    }
}
