using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Mesh.Consul.Tests;

/// <summary>Counts the <c>mesh.consul.query.rounds</c> measurements by result while it lives, and reads the cache-age gauge.</summary>
internal sealed class RoundCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _rounds = new();
    private readonly ConcurrentDictionary<string, double> _ages = new();

    public RoundCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Mesh.Consul")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "mesh.consul.query.rounds")
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "mesh.consul.result")
                    {
                        _rounds.AddOrUpdate((string)tag.Value!, value, (_, n) => n + value);
                    }
                }
            }
        });
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "mesh.consul.query")
                {
                    _ages[(string)tag.Value!] = value;
                }
            }
        });
        _listener.Start();
    }

    public long Count(string result) => _rounds.GetValueOrDefault(result);

    public IReadOnlyDictionary<string, double> ReadAges()
    {
        _listener.RecordObservableInstruments();
        return new Dictionary<string, double>(_ages);
    }

    public void Dispose() => _listener.Dispose();
}
