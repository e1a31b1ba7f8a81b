using System.Runtime.CompilerServices;

namespace Mesh.Sni.Routing;

/// <summary>
/// Room on the stack for the sums <see cref="SniNameHash.Hash(ReadOnlySpan{byte}, Span{ulong})"/> keeps: a fixed-size
/// local rather than a <c>stackalloc</c>, which would cost the lookup a stack probe and a stack-cookie check.
/// </summary>
[InlineArray(SniNameHash.MaxSums)]
internal struct SniSuffixSums
{
    private ulong _first;
}
