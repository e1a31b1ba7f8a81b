using System.Buffers;
using System.Diagnostics;

namespace Mesh.ParseComparison;

/// <summary>
/// The two builds timed on one hello, alternating slice by slice, at <see cref="Placements"/> places in a page: where the
/// hello lies against cache lines decides which of its reads straddle one, and a benchmark sees one such place per process.
/// </summary>
internal sealed unsafe class PlacementRun
{
    public const int Placements = 16;
    public const int CallsPerSlice = 2000;
    private const int WarmupRounds = 4;

    private readonly double[,] _minimums;

    private PlacementRun(double[,] minimums) => _minimums = minimums;

    /// <summary>Parses with every build for <paramref name="time"/>, long enough for the runtime to compile the parse fully.</summary>
    public static void WarmUp(ParserBuild[] builds, byte[] hello, TimeSpan time)
    {
        byte[] pinned = GC.AllocateArray<byte>(hello.Length, pinned: true);
        hello.CopyTo(pinned, 0);
        var sequence = new ReadOnlySequence<byte>(pinned);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < time)
        {
            foreach (ParserBuild build in builds)
            {
                build.Parse(sequence, pinned, CallsPerSlice);
            }
        }
    }

    /// <summary>Times each build on <paramref name="hello"/>; the builds must agree on every parse's outcome.</summary>
    public static PlacementRun Measure(ParserBuild[] builds, byte[] hello, int slices)
    {
        byte[] page = GC.AllocateArray<byte>(8192 + hello.Length + 64, pinned: true);
        var minimums = new double[builds.Length, Placements];
        for (int b = 0; b < builds.Length; b++)
        {
            for (int p = 0; p < Placements; p++)
            {
                minimums[b, p] = double.MaxValue;
            }
        }

        fixed (byte* start = page)
        {
            int lineStart = (int)((64 - ((nint)start & 63)) & 63);
            // Sums of statuses, never negative: -1 is "not yet seen" (a sum of Complete parses is 0).
            var outcomes = new long[Placements];
            Array.Fill(outcomes, -1);
            for (int slice = -WarmupRounds * Placements; slice < slices; slice++)
            {
                int placement = ((slice % Placements) + Placements) % Placements;

                // Steps of 264 bytes: every eighth of a cache line, and a different place in the page each time.
                int offset = lineStart + (placement * 264 % 4096);
                Array.Clear(page);
                hello.CopyTo(page, offset);
                var sequence = new ReadOnlySequence<byte>(page, offset, hello.Length);
                ReadOnlySpan<byte> span = page.AsSpan(offset, hello.Length);
                bool reversed = (slice / Placements & 1) != 0;
                for (int k = 0; k < builds.Length; k++)
                {
                    int b = reversed ? builds.Length - 1 - k : k;
                    long started = Stopwatch.GetTimestamp();
                    long outcome = builds[b].Parse(sequence, span, CallsPerSlice);
                    double nanoseconds = Stopwatch.GetElapsedTime(started).TotalNanoseconds / CallsPerSlice;
                    if (outcomes[placement] < 0)
                    {
                        outcomes[placement] = outcome;
                    }
                    else if (outcomes[placement] != outcome)
                    {
                        throw new InvalidOperationException("The two builds parsed the hello to different outcomes.");
                    }

                    if (slice >= 0)
                    {
                        minimums[b, placement] = Math.Min(minimums[b, placement], nanoseconds);
                    }
                }
            }
        }

        return new PlacementRun(minimums);
    }

    /// <summary>The mean over the placements of the build's fastest slice at each: what a parse costs wherever the hello lies.</summary>
    public double MeanOfMinimums(int build)
    {
        double sum = 0;
        for (int p = 0; p < Placements; p++)
        {
            sum += _minimums[build, p];
        }

        return sum / Placements;
    }

    /// <summary>The fastest and slowest placement of the build.</summary>
    public string Spread(int build)
    {
        double least = double.MaxValue, most = 0;
        for (int p = 0; p < Placements; p++)
        {
            least = Math.Min(least, _minimums[build, p]);
            most = Math.Max(most, _minimums[build, p]);
        }

        return $"{least:F1}–{most:F1}";
    }
}
