using System.Diagnostics.Metrics;
using Mesh.Diagnostics;

namespace Mesh.Splicing;

/// <summary>The splicer's instruments (<see cref="MeshMetrics.SpliceMeter"/>). Tags are cached so that recording allocates nothing.</summary>
internal sealed class SpliceMetrics
{
    private static readonly KeyValuePair<string, object?> s_forward = new(MeshMetrics.DirectionTag, "forward");
    private static readonly KeyValuePair<string, object?> s_backward = new(MeshMetrics.DirectionTag, "backward");
    private static readonly KeyValuePair<string, object?>[] s_ends = CreateEndTags();

    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _completed;

    public SpliceMetrics(IMeterFactory? meterFactory)
    {
        Meter meter = meterFactory?.Create(MeshMetrics.SpliceMeter) ?? new Meter(MeshMetrics.SpliceMeter);
        _active = meter.CreateUpDownCounter<long>(MeshMetrics.SpliceActive, unit: "{splice}", description: "Splices in progress.");
        _bytes = meter.CreateCounter<long>(MeshMetrics.SpliceBytes, unit: "By", description: "Bytes moved by splices.");
        _completed = meter.CreateCounter<long>(MeshMetrics.SpliceCompleted, unit: "{splice}", description: "Finished splices by how they ended.");
    }

    public static SpliceMetrics Shared { get; } = new(null);

    public void Started() => _active.Add(1);

    public void Moved(long bytes, bool forward) => _bytes.Add(bytes, forward ? s_forward : s_backward);

    public void Ended(SpliceEnd end)
    {
        _active.Add(-1);
        _completed.Add(1, s_ends[(int)end]);
    }

    internal static string EndName(SpliceEnd end) => end switch
    {
        SpliceEnd.Completed => "completed",
        SpliceEnd.ResetByA => "reset_by_a",
        SpliceEnd.ResetByB => "reset_by_b",
        SpliceEnd.IdleTimeout => "idle_timeout",
        SpliceEnd.Cancelled => "cancelled",
        SpliceEnd.TruncatedByB => "truncated_by_b",
        _ => "error",
    };

    private static KeyValuePair<string, object?>[] CreateEndTags()
    {
        var tags = new KeyValuePair<string, object?>[(int)SpliceEnd.Error + 1];
        for (int i = 0; i < tags.Length; i++)
        {
            tags[i] = new(MeshMetrics.SpliceEndTag, EndName((SpliceEnd)i));
        }

        return tags;
    }
}
