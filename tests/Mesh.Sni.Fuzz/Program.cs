using System.Diagnostics;
using System.Globalization;
using Mesh.Sni.Fuzz;
using SharpFuzz;

// AFL++ drives this process through SharpFuzz: each input is parsed as one span and as several segmentations, and any
// disagreement or exception is a crash AFL++ keeps. Without AFL++ (no __AFL_SHM_ID), pass files to replay them once, or
// "--mutate SECONDS FILE..." to run mutations of those files for a bounded time (a quick check where AFL++ is not installed).
if (args.Length > 2 && args[0] == "--mutate")
{
    return Mutate(TimeSpan.FromSeconds(double.Parse(args[1], CultureInfo.InvariantCulture)), [.. args[2..].Select(File.ReadAllBytes)]);
}

if (args.Length > 0)
{
    foreach (string path in args)
    {
        ClientHelloFuzzTarget.Run(File.ReadAllBytes(path));
        Console.WriteLine($"ok {path}");
    }

    return 0;
}

Fuzzer.OutOfProcess.Run(static stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    ClientHelloFuzzTarget.Run(buffer.ToArray());
});
return 0;

// Flips, overwrites with boundary values, inserts, deletes and truncates bytes of the seeds; the first input that throws is
// printed in hex and ends the run with exit code 1.
static int Mutate(TimeSpan duration, byte[][] seeds)
{
    var random = new Random(20261206);
    var clock = Stopwatch.StartNew();
    long runs = 0;
    while (clock.Elapsed < duration)
    {
        List<byte> input = [.. seeds[random.Next(seeds.Length)]];
        for (int m = random.Next(1, 5); m > 0 && input.Count > 0; m--)
        {
            int at = random.Next(input.Count);
            switch (random.Next(5))
            {
                case 0: input[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: input[at] = (byte)(random.Next(2) == 0 ? 0 : 0xff); break;
                case 2: input.Insert(at, (byte)random.Next(256)); break;
                case 3: input.RemoveAt(at); break;
                default: input.RemoveRange(at, input.Count - at); break;
            }
        }

        byte[] bytes = [.. input];
        try
        {
            ClientHelloFuzzTarget.Run(bytes);
        }
        catch (Exception e)
        {
            Console.WriteLine($"crash after {runs} runs: {e.Message}\n{Convert.ToHexString(bytes)}");
            return 1;
        }

        runs++;
    }

    Console.WriteLine($"{runs} mutated inputs, no crash");
    return 0;
}
