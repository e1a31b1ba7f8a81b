using Mesh.Sni.Fuzz;
using SharpFuzz;

// AFL++ drives this process through SharpFuzz: each input is parsed as one span and as several segmentations, and any
// disagreement or exception is a crash AFL++ keeps. Without AFL++ (no __AFL_SHM_ID), pass files to replay them once.
if (args.Length > 0)
{
    foreach (string path in args)
    {
        ClientHelloFuzzTarget.Run(File.ReadAllBytes(path));
        Console.WriteLine($"ok {path}");
    }

    return;
}

Fuzzer.OutOfProcess.Run(static stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    ClientHelloFuzzTarget.Run(buffer.ToArray());
});
