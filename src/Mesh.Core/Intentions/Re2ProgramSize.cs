namespace Mesh.Intentions;

/// <summary>
/// Estimates the size of the program RE2 compiles a pattern to, and checks RE2's repeat limits, so that Mesh refuses what Envoy
/// refuses: Envoy compiles every <c>safe_regex</c> with RE2 and rejects a program larger than 100 instructions
/// (<c>re2.max_program_size.error_level</c>), and RE2 itself rejects a repeat count above 1000, also when nested repeats
/// multiply past 1000 (<c>kRegexpRepeatSize</c>).
/// </summary>
/// <remarks>
/// Why it matters here: a counted repeat is expanded into copies (<c>.{200}</c> is two hundred <c>.</c>), and after a
/// <c>.*</c> every copy is a state the matcher tracks at once, so <c>/.*a.{200}</c> takes milliseconds per request in .NET's
/// non-backtracking engine (whose DFA cache overflows and falls back to NFA simulation) as it would be large in RE2. The weights
/// follow RE2's compiler (re2/compile.cc) for UTF-8 input and were checked against RE2's <c>ProgramSize()</c>: 4 for the
/// program's frame, 1 per ASCII literal byte, 8 for <c>.</c> or a negated class (its UTF-8 byte ranges), 1 per range of a class,
/// 2 per capture group, 1 per <c>*</c>, <c>+</c>, <c>?</c> or <c>|</c>, and <c>x{n,m}</c> as m copies of x plus m − n
/// alternatives. It never under-counts the patterns that matter (counted repeats); it may over-count an alternation of single
/// characters, which RE2 merges into one class, by a few instructions.
/// </remarks>
internal static class Re2ProgramSize
{
    /// <summary>Envoy's default <c>re2.max_program_size.error_level</c>.</summary>
    public const int MaxProgramSize = 100;

    /// <summary>RE2's <c>kMaxRepeat</c>.</summary>
    public const int MaxRepeat = 1000;

    private const int Frame = 4;
    private const int AnyCharacter = 8;
    private const int UnicodeClass = 500;

    /// <summary>The estimated program size, or an RE2 parse error about repeats (null when none).</summary>
    public static int Estimate(string pattern, out string? repeatError)
    {
        var parser = new Parser(pattern);
        long size = parser.Alternation();

        // An unbalanced ')' ends the parse early; the rest still counts (the pattern is refused as invalid anyway).
        while (parser.SkipStrayClose())
        {
            size = Math.Min(int.MaxValue, size + 1 + parser.Alternation());
        }

        repeatError = parser.RepeatError;
        return (int)Math.Min(int.MaxValue, size + Frame);
    }

    private sealed class Parser(string pattern)
    {
        private int _i;

        public string? RepeatError { get; private set; }

        public bool SkipStrayClose()
        {
            if (_i < pattern.Length && pattern[_i] == ')')
            {
                _i++;
                return true;
            }

            return false;
        }

        // The largest product of nested repeat counts in what was parsed last (RE2 refuses more than 1000).
        private long _repeatProduct = 1;

        // alternation := concatenation ('|' concatenation)*
        public long Alternation()
        {
            long size = Concatenation();
            long product = _repeatProduct;
            bool singleCharacters = size <= 1;
            int alternatives = 1;
            while (_i < pattern.Length && pattern[_i] == '|')
            {
                _i++;
                long next = Concatenation();
                product = Math.Max(product, _repeatProduct);
                singleCharacters &= next <= 1;
                alternatives++;
                size = Saturate(size + 1 + next);
            }

            _repeatProduct = product;

            // RE2 merges an alternation of single characters (a|b|c) into one class, one instruction.
            return alternatives > 1 && singleCharacters ? 1 : size;
        }

        // concatenation := (atom quantifier*)*, ending at '|', ')' or the end.
        private long Concatenation()
        {
            long size = 0;
            long product = 1;
            while (_i < pattern.Length && pattern[_i] is not ('|' or ')'))
            {
                int atomStart = _i;
                _repeatProduct = 1;
                long atom = Atom(out bool repeatable);
                if (repeatable)
                {
                    atom = Quantifiers(atom, atomStart);
                }

                product = Math.Max(product, _repeatProduct);
                size = Saturate(size + atom);
            }

            _repeatProduct = product;
            return size;
        }

        private long Atom(out bool repeatable)
        {
            repeatable = true;
            char c = pattern[_i];
            switch (c)
            {
                case '(':
                    return Group(out repeatable);
                case '[':
                    return Class();
                case '.':
                    _i++;
                    return AnyCharacter;
                case '^' or '$':
                    _i++;
                    repeatable = false;
                    return 0;
                case '\\':
                    return Escape(out repeatable);
                default:
                    return Literal();
            }
        }

        private long Group(out bool repeatable)
        {
            repeatable = true;
            _i++;
            long captures = 2;
            if (_i < pattern.Length && pattern[_i] == '?')
            {
                // (?P<name>re) and (?<name>re) capture; (?:re), (?flags:re) do not; (?flags) alone sets flags and matches nothing.
                int close = pattern.IndexOfAny([')', ':', '<'], _i);
                if (close >= 0 && pattern[close] == '<')
                {
                    int end = pattern.IndexOf('>', close);
                    _i = end < 0 ? pattern.Length : end + 1;
                }
                else if (close >= 0 && pattern[close] == ')')
                {
                    _i = close + 1;
                    repeatable = false;
                    return 0;
                }
                else
                {
                    _i = close < 0 ? pattern.Length : close + 1;
                    captures = 0;
                }
            }

            long inner = Alternation();
            if (_i < pattern.Length && pattern[_i] == ')')
            {
                _i++;
            }

            return Saturate(inner + captures);
        }

        private long Class()
        {
            int start = ++_i;
            bool negated = _i < pattern.Length && pattern[_i] == '^';
            if (negated)
            {
                _i++;
            }

            long ranges = 0;
            bool first = true;
            while (_i < pattern.Length && (pattern[_i] != ']' || first))
            {
                first = false;
                if (pattern[_i] == '[' && _i + 1 < pattern.Length && pattern[_i + 1] == ':')
                {
                    int end = pattern.IndexOf(":]", _i + 2, StringComparison.Ordinal);
                    _i = end < 0 ? pattern.Length : end + 2;
                    ranges += 3;
                    continue;
                }

                if (pattern[_i] == '\\' && _i + 1 < pattern.Length)
                {
                    char e = pattern[_i + 1];
                    _i += 2;
                    if (e is 'p' or 'P')
                    {
                        SkipUnicodeClassName();
                        ranges += UnicodeClass;
                    }
                    else
                    {
                        ranges += e is 'w' or 's' ? 3 : e is 'W' or 'S' or 'D' ? AnyCharacter : 1;
                    }
                }
                else
                {
                    ranges += char.IsAscii(pattern[_i]) ? 1 : 2;
                    _i++;
                }

                // a-z is one range.
                if (_i + 1 < pattern.Length && pattern[_i] == '-' && pattern[_i + 1] != ']')
                {
                    _i += 2;
                }
            }

            _i = Math.Min(_i + 1, pattern.Length);
            return negated ? Math.Max(AnyCharacter, ranges) : Math.Max(1, ranges);
        }

        private long Escape(out bool repeatable)
        {
            repeatable = true;
            if (_i + 1 >= pattern.Length)
            {
                _i++;
                return 1;
            }

            char e = pattern[_i + 1];
            _i += 2;
            switch (e)
            {
                case 'b' or 'B' or 'A' or 'z':
                    repeatable = false;
                    return 0;
                case 'd':
                    return 1;
                case 'w' or 's':
                    return 3;
                case 'D' or 'W' or 'S' or 'C':
                    return AnyCharacter;
                case 'p' or 'P':
                    SkipUnicodeClassName();
                    return UnicodeClass;
                case 'Q':
                    int end = pattern.IndexOf(@"\E", _i, StringComparison.Ordinal);
                    int stop = end < 0 ? pattern.Length : end;
                    long size = Utf8Length(pattern.AsSpan(_i, stop - _i));
                    _i = end < 0 ? pattern.Length : end + 2;
                    return size;
                case 'x' when _i < pattern.Length && pattern[_i] == '{':
                    int close = pattern.IndexOf('}', _i);
                    _i = close < 0 ? pattern.Length : close + 1;
                    return 2;
                default:
                    return 1;
            }
        }

        private void SkipUnicodeClassName()
        {
            if (_i < pattern.Length && pattern[_i] == '{')
            {
                int close = pattern.IndexOf('}', _i);
                _i = close < 0 ? pattern.Length : close + 1;
            }
            else
            {
                _i = Math.Min(_i + 1, pattern.Length);
            }
        }

        private long Literal()
        {
            // A surrogate pair is one character of up to four UTF-8 bytes.
            int length = char.IsHighSurrogate(pattern[_i]) && _i + 1 < pattern.Length ? 2 : 1;
            long size = Utf8Length(pattern.AsSpan(_i, length));
            _i += length;
            return size;
        }

        private long Quantifiers(long atom, int atomStart)
        {
            while (_i < pattern.Length)
            {
                char c = pattern[_i];
                if (c is '*' or '+' or '?')
                {
                    _i++;
                    atom = Saturate(atom + 1);
                }
                else if (c == '{' && TryReadRepeat(out long min, out long max))
                {
                    long product = _repeatProduct = Math.Min(_repeatProduct * Math.Max(1, Math.Max(min, max)), int.MaxValue);
                    if (min > MaxRepeat || max > MaxRepeat)
                    {
                        RepeatError ??= $"the repeat count at character {atomStart + 1} is above RE2's limit of {MaxRepeat}";
                    }
                    else if (product > MaxRepeat)
                    {
                        RepeatError ??= $"nested repeats multiply to more than RE2's limit of {MaxRepeat}";
                    }

                    // x{n} is n copies; x{n,} is n copies and a loop; x{n,m} is m copies, m − n of them optional.
                    atom = max < 0 ? Saturate((atom * Math.Max(min, 1)) + 1) : Saturate((atom * Math.Max(max, 1)) + (max - min));
                }
                else
                {
                    break;
                }

                if (_i < pattern.Length && pattern[_i] == '?')
                {
                    _i++; // non-greedy: same program size
                }
            }

            return atom;
        }

        // {n}, {n,} or {n,m}; RE2 reads anything else (such as {,3}) as literal text.
        private bool TryReadRepeat(out long min, out long max)
        {
            min = max = 0;
            int j = _i + 1;
            if (!ReadNumber(ref j, out min))
            {
                return false;
            }

            max = min;
            if (j < pattern.Length && pattern[j] == ',')
            {
                j++;
                max = -1;
                if (j < pattern.Length && char.IsAsciiDigit(pattern[j]) && !ReadNumber(ref j, out max))
                {
                    return false;
                }
            }

            if (j >= pattern.Length || pattern[j] != '}')
            {
                return false;
            }

            _i = j + 1;
            return true;
        }

        private bool ReadNumber(ref int j, out long value)
        {
            value = 0;
            int start = j;
            while (j < pattern.Length && char.IsAsciiDigit(pattern[j]))
            {
                value = Math.Min((value * 10) + (pattern[j] - '0'), int.MaxValue);
                j++;
            }

            return j > start;
        }

        private static long Utf8Length(ReadOnlySpan<char> text) => System.Text.Encoding.UTF8.GetByteCount(text);

        private static long Saturate(long value) => Math.Min(value, int.MaxValue);
    }
}
