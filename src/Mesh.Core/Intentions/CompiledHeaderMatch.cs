using System.Buffers;
using System.Text.RegularExpressions;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>A checked header criterion, ready to run without allocating.</summary>
internal sealed class CompiledHeaderMatch
{
    private const int StackJoinLimit = 512;

    private readonly string _name;
    private readonly HeaderMatchKind _kind;
    private readonly string _value;
    private readonly Regex? _regex;
    private readonly bool _invert;

    private CompiledHeaderMatch(string name, HeaderMatchKind kind, string value, Regex? regex, bool invert)
    {
        _name = name;
        _kind = kind;
        _value = value;
        _regex = regex;
        _invert = invert;
    }

    private enum HeaderMatchKind
    {
        Present,
        Exact,
        Prefix,
        Suffix,
        Regex,
    }

    public static CompiledHeaderMatch Compile(IntentionHeaderMatch match, string field, IntentionValidationContext context)
    {
        if (string.IsNullOrEmpty(match.Name))
        {
            throw context.Fail(IntentionValidationRule.HeaderNameRequired, field, "a header matcher needs a Name");
        }

        int kinds = (match.Present ? 1 : 0) + (match.Exact is null ? 0 : 1) + (match.Prefix is null ? 0 : 1)
            + (match.Suffix is null ? 0 : 1) + (match.Regex is null ? 0 : 1);
        if (kinds != 1)
        {
            throw context.Fail(IntentionValidationRule.HeaderMatcherKind, field,
                $"header {ErrorQuote.Of(match.Name)} must have exactly one of Present, Exact, Prefix, Suffix or Regex, it has {kinds}");
        }

        if (match.Present)
        {
            return new CompiledHeaderMatch(match.Name, HeaderMatchKind.Present, string.Empty, null, match.Invert);
        }

        if (match.Regex is not null)
        {
            return new CompiledHeaderMatch(match.Name, HeaderMatchKind.Regex, match.Regex, Re2Pattern.Compile(match.Regex, field + ".Regex", context), match.Invert);
        }

        return match.Exact is not null ? new CompiledHeaderMatch(match.Name, HeaderMatchKind.Exact, match.Exact, null, match.Invert)
            : match.Prefix is not null ? new CompiledHeaderMatch(match.Name, HeaderMatchKind.Prefix, match.Prefix, null, match.Invert)
            : new CompiledHeaderMatch(match.Name, HeaderMatchKind.Suffix, match.Suffix!, null, match.Invert);
    }

    public bool Matches<TRequest>(ref TRequest request)
        where TRequest : IIntentionHttpRequest, allows ref struct
    {
        int count = request.GetHeaderCount(_name);
        if (_kind == HeaderMatchKind.Present)
        {
            return (count > 0) != _invert;
        }

        // Envoy: a value matcher never matches a missing header, inverted or not.
        if (count == 0)
        {
            return false;
        }

        if (count == 1)
        {
            return MatchesValue(request.GetHeaderValue(_name, 0)) != _invert;
        }

        // Several field lines: matched as one value joined with ',' as Envoy joins them.
        int length = count - 1;
        for (int i = 0; i < count; i++)
        {
            length += request.GetHeaderValue(_name, i).Length;
        }

        char[]? rented = null;
        Span<char> joined = length <= StackJoinLimit ? stackalloc char[StackJoinLimit] : (rented = ArrayPool<char>.Shared.Rent(length));
        int w = 0;
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                joined[w++] = ',';
            }

            ReadOnlySpan<char> value = request.GetHeaderValue(_name, i);
            value.CopyTo(joined[w..]);
            w += value.Length;
        }

        bool result = MatchesValue(joined[..w]) != _invert;
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return result;
    }

    private bool MatchesValue(ReadOnlySpan<char> value) => _kind switch
    {
        HeaderMatchKind.Exact => value.SequenceEqual(_value),
        HeaderMatchKind.Prefix => value.StartsWith(_value, StringComparison.Ordinal),
        HeaderMatchKind.Suffix => value.EndsWith(_value, StringComparison.Ordinal),
        _ => _regex!.IsMatch(value),
    };
}
