namespace Mesh.Splicing;

/// <summary>What a splice did: bytes moved each way and how it ended.</summary>
/// <param name="BytesAToB">Bytes delivered from side A to side B, the prefix included.</param>
/// <param name="BytesBToA">Bytes delivered from side B to side A.</param>
/// <param name="End">How the splice ended.</param>
/// <param name="Error">The failure behind <see cref="SpliceEnd.ResetByA"/>, <see cref="SpliceEnd.ResetByB"/> or <see cref="SpliceEnd.Error"/>, if one was observed.</param>
/// <param name="UsedKernelPath">Whether at least one direction moved bytes with <c>splice(2)</c>.</param>
public readonly record struct SpliceResult(long BytesAToB, long BytesBToA, SpliceEnd End, Exception? Error, bool UsedKernelPath);
