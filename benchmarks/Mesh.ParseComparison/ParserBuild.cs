using System.Buffers;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace Mesh.ParseComparison;

/// <summary>One build of Mesh.Sni, loaded on its own with the assemblies beside it, and its public parse entry point.</summary>
internal sealed unsafe class ParserBuild
{
    // Where every parse writes its result (a ref struct of the build's own type): native memory larger than it, kept for
    // the process. The spans the result holds point into the hello, which the caller keeps pinned.
    private static readonly byte* Result = (byte*)NativeMemory.AlignedAlloc(4096, 64);

    // ClientHelloParser.DefaultMaxHandshakeLength: the builds are loaded by path, not referenced, so the value is restated.
    private const int MaxHandshakeLength = 64 * 1024;

    private readonly IntPtr _parse;

    private ParserBuild(IntPtr parse, bool fromSpan)
    {
        _parse = parse;
        FromSpan = fromSpan;
    }

    /// <summary>Whether the build is called with a span rather than a sequence.</summary>
    public bool FromSpan { get; }

    /// <summary>Loads the build at <paramref name="path"/> into a context of its own.</summary>
    public static ParserBuild Load(string path, bool fromSpan)
    {
        var context = new BuildLoadContext(Path.GetFullPath(path));
        Assembly assembly = context.LoadFromAssemblyPath(Path.GetFullPath(path));
        Type parser = assembly.GetType("Mesh.Sni.ClientHello.ClientHelloParser", throwOnError: true)!;
        Type input = fromSpan ? typeof(ReadOnlySpan<byte>) : typeof(ReadOnlySequence<byte>).MakeByRefType();
        MethodInfo parse = parser.GetMethods().Single(m => m.Name == "Parse" && m.GetParameters()[0].ParameterType == input);
        return new ParserBuild(parse.MethodHandle.GetFunctionPointer(), fromSpan);
    }

    /// <summary>
    /// Parses the hello <paramref name="count"/> times, as <paramref name="sequence"/> or as <paramref name="hello"/> (the same
    /// bytes, which the caller keeps pinned), and returns the sum of the statuses.
    /// </summary>
    public long Parse(in ReadOnlySequence<byte> sequence, ReadOnlySpan<byte> hello, int count)
    {
        long statuses = 0;
        if (FromSpan)
        {
            var parse = (delegate*<ReadOnlySpan<byte>, byte*, int, int>)_parse;
            for (int i = 0; i < count; i++)
            {
                statuses += parse(hello, Result, MaxHandshakeLength);
            }
        }
        else
        {
            var parse = (delegate*<in ReadOnlySequence<byte>, byte*, int, int>)_parse;
            for (int i = 0; i < count; i++)
            {
                statuses += parse(in sequence, Result, MaxHandshakeLength);
            }
        }

        return statuses;
    }

    private sealed class BuildLoadContext(string path) : AssemblyLoadContext(Path.GetFileName(Path.GetDirectoryName(path)), isCollectible: false)
    {
        private readonly AssemblyDependencyResolver _resolver = new(path);

        protected override Assembly? Load(AssemblyName assemblyName) =>
            _resolver.ResolveAssemblyToPath(assemblyName) is { } found ? LoadFromAssemblyPath(found) : null;
    }
}
