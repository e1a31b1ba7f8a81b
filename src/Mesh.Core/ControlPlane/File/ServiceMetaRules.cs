using System.Text;
using Mesh.Identity;

namespace Mesh.ControlPlane.File;

/// <summary>
/// Consul's rules for service metadata (<c>structs.ValidateServiceMetadata</c>): at most 64 pairs; a key is non-empty, at most
/// 128 characters of <c>[A-Za-z0-9_-]</c> and does not start with the reserved <c>consul-</c>; a value is at most 512 bytes
/// (Go's <c>len</c>, so UTF-8 bytes) and never null.
/// </summary>
internal static class ServiceMetaRules
{
    internal const int MaxPairs = 64;
    internal const int MaxKeyLength = 128;
    internal const int MaxValueBytes = 512;
    private const string ReservedPrefix = "consul-";

    internal static string? DescribeTooMany(int count) =>
        count > MaxPairs ? $"has {count} pairs, more than Consul's limit of {MaxPairs}" : null;

    internal static string? DescribeInvalidPair(string key, string? value)
    {
        if (key.Length == 0)
        {
            return "a key is empty";
        }

        if (key.Length > MaxKeyLength)
        {
            return $"the key {ErrorQuote.Of(key)} is longer than {MaxKeyLength} characters";
        }

        foreach (char c in key)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-')
            {
                return $"the key {ErrorQuote.Of(key)} holds '{c}' (U+{(int)c:X4}); only letters, digits, '-' and '_' are allowed";
            }
        }

        if (key.StartsWith(ReservedPrefix, StringComparison.Ordinal))
        {
            return $"the key {ErrorQuote.Of(key)} starts with '{ReservedPrefix}', which Consul reserves for itself";
        }

        if (value is null)
        {
            return $"the value of {ErrorQuote.Of(key)} is null; give a string";
        }

        int bytes = Encoding.UTF8.GetByteCount(value);
        return bytes > MaxValueBytes ? $"the value of {ErrorQuote.Of(key)} is {bytes} bytes, more than {MaxValueBytes}" : null;
    }
}
