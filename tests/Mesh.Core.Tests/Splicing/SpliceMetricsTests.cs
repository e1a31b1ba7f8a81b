using System.Diagnostics.Metrics;
using Mesh.Diagnostics;
using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

[TestFixture]
[NonParallelizable]
public sealed class SpliceMetricsTests
{
    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Meters { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            Meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (Meter m in Meters)
            {
                m.Dispose();
            }
        }
    }

    [Test]
    public async Task Active_splices_bytes_each_way_and_endings_are_published([Values(false, true)] bool kernel)
    {
        using var factory = new TestMeterFactory();
        var splicer = new TcpSplicer(meterFactory: factory);
        long active = 0, peakActive = 0, forward = 0, backward = 0;
        var ends = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (factory.Meters.Contains(instrument.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (ends)
            {
                switch (instrument.Name)
                {
                    case MeshMetrics.SpliceActive:
                        active += value;
                        peakActive = Math.Max(peakActive, active);
                        break;
                    case MeshMetrics.SpliceBytes:
                        foreach (KeyValuePair<string, object?> tag in tags)
                        {
                            if (tag.Key == MeshMetrics.DirectionTag)
                            {
                                if ((string?)tag.Value == "forward")
                                {
                                    forward += value;
                                }
                                else
                                {
                                    backward += value;
                                }
                            }
                        }

                        break;
                    case MeshMetrics.SpliceCompleted:
                        foreach (KeyValuePair<string, object?> tag in tags)
                        {
                            if (tag.Key == MeshMetrics.SpliceEndTag)
                            {
                                ends[(string)tag.Value!] = ends.GetValueOrDefault((string)tag.Value!) + value;
                            }
                        }

                        break;
                }
            }
        });
        listener.Start();

        using (Relayed r = await RelayAsync(kernel, splicer: splicer))
        {
            Task<byte[]> up = SendRandomAsync(r.Client, 1_000_000, 1);
            Task<byte[]> down = SendRandomAsync(r.Server, 300_000, 2);
            _ = await ReceiveAllAsync(r.Server).WaitAsync(Guard);
            _ = await ReceiveAllAsync(r.Client).WaitAsync(Guard);
            await up;
            await down;
            _ = await r.Result;
        }

        using (Relayed r = await RelayAsync(kernel, splicer: splicer))
        {
            r.Client.LingerState = new System.Net.Sockets.LingerOption(true, 0);
            r.Client.Dispose();
            _ = await r.Result;
        }

        listener.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(peakActive, Is.GreaterThanOrEqualTo(1));
            Assert.That(active, Is.Zero);
            Assert.That(forward, Is.EqualTo(1_000_000));
            Assert.That(backward, Is.EqualTo(300_000));
            Assert.That(ends.GetValueOrDefault("completed"), Is.EqualTo(1));
            Assert.That(ends.GetValueOrDefault("reset_by_a"), Is.EqualTo(1));
        });
    }
}
