using System.Buffers;
using System.Reflection;
using System.Runtime.Loader;

namespace Mesh.ParseComparison;

/// <summary>One build of Mesh.Sni, loaded on its own with the assemblies beside it, and its public parse entry point.</summary>
internal sealed unsafe class ParserBuild
{
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
    /// Parses <paramref name="hello"/> <paramref name="count"/> times and returns the sum of the statuses. The result
    /// (a ref struct of the build's own type) is written to <paramref name="result"/>, native memory larger than it; the
    /// spans it holds point into <paramref name="hello"/>, which the caller keeps pinned.
    /// </summary>
    public long Parse(in ReadOnlySequence<byte> sequence, ReadOnlySpan<byte> hello, byte* result, int count)
    {
        long statuses = 0;
        if (FromSpan)
        {
            var parse = (delegate*<ReadOnlySpan<byte>, byte*, int, int>)_parse;
            for (int i = 0; i < count; i++)
            {
                statuses += parse(hello, result, 64 * 1024);
            }
        }
        else
        {
            var parse = (delegate*<in ReadOnlySequence<byte>, byte*, int, int>)_parse;
            for (int i = 0; i < count; i++)
            {
                statuses += parse(in sequence, result, 64 * 1024);
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
