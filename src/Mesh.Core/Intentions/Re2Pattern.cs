using System.Text;
using System.Text.RegularExpressions;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>
/// Compiles a Consul (RE2 syntax, Envoy <c>safe_regex</c>) pattern to a .NET regex with the same meaning: a whole-string
/// match, linear time, ASCII shorthand classes, and refusal of what RE2 refuses.
/// </summary>
/// <remarks>
/// Envoy matches the whole value, so the pattern is anchored as <c>\A(?:…)\z</c>; <c>$</c> is not used as the anchor because
/// in .NET it also matches before a final newline. <see cref="RegexOptions.NonBacktracking"/> gives RE2's linear-time
/// guarantee and refuses back-references and look-around itself; they are also caught here first so the error says why.
/// </remarks>
internal static class Re2Pattern
{
    public static Regex Compile(string pattern, string field, IntentionValidationContext context)
    {
        string translated = Translate(pattern, field, context);

        // Checked before .NET builds anything: RE2's repeat limit, then Envoy's program-size budget (Re2ProgramSize says why).
        int programSize = Re2ProgramSize.Estimate(pattern, out string? repeatError);
        if (repeatError is not null)
        {
            throw context.Fail(IntentionValidationRule.InvalidRegex, field, $"{ErrorQuote.Of(pattern)} is not a valid RE2 expression: {repeatError}");
        }

        if (programSize > Re2ProgramSize.MaxProgramSize)
        {
            throw context.Fail(IntentionValidationRule.RegexTooComplex, field,
                $"{ErrorQuote.Of(pattern)} compiles to about {programSize} RE2 instructions, more than the {Re2ProgramSize.MaxProgramSize} Envoy accepts; "
                + "counted repeats such as .{200} are expanded into copies, so replace them with a shorter or a prefix match");
        }

        try
        {
            return new Regex(@"\A(?:" + translated + @")\z", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (NotSupportedException e)
        {
            throw context.Fail(IntentionValidationRule.RegexNotRe2, field, $"{ErrorQuote.Of(pattern)} uses a construct RE2 does not support: {ErrorQuote.ClipRuns(e.Message)}", e);
        }
        catch (ArgumentException e)
        {
            throw context.Fail(IntentionValidationRule.InvalidRegex, field, $"{ErrorQuote.Of(pattern)} is not a valid regular expression: {ErrorQuote.ClipRuns(e.Message)}", e);
        }
    }

    private static string Translate(string pattern, string field, IntentionValidationContext context)
    {
        var builder = new StringBuilder(pattern.Length + 16);
        bool inClass = false;
        bool multiline = pattern.Contains("(?", StringComparison.Ordinal) && HasInlineMultiline(pattern);
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char e = pattern[++i];
                switch (e)
                {
                    case >= '1' and <= '9':
                    case 'k':
                        throw Refuse(pattern, field, context, "back-references");
                    case 'Z':
                    case 'G':
                        throw Refuse(pattern, field, context, $"\\{e}");
                    // RE2's shorthand classes are ASCII; .NET's are Unicode.
                    case 'd':
                        builder.Append(inClass ? "0-9" : "[0-9]");
                        continue;
                    case 'D' when !inClass:
                        builder.Append("[^0-9]");
                        continue;
                    case 'w':
                        builder.Append(inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]");
                        continue;
                    case 'W' when !inClass:
                        builder.Append("[^0-9A-Za-z_]");
                        continue;
                    case 's':
                        builder.Append(inClass ? @"\t\n\f\r " : @"[\t\n\f\r ]");
                        continue;
                    case 'S' when !inClass:
                        builder.Append(@"[^\t\n\f\r ]");
                        continue;
                    default:
                        builder.Append('\\').Append(e);
                        continue;
                }
            }

            if (inClass)
            {
                if (c == ']')
                {
                    inClass = false;
                }

                builder.Append(c);
                continue;
            }

            switch (c)
            {
                case '[':
                    inClass = true;
                    builder.Append(c);
                    // A ']' right after '[' or '[^' is a literal in both dialects.
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                    {
                        builder.Append('^');
                        i++;
                    }

                    if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                    {
                        builder.Append(@"\]");
                        i++;
                    }

                    continue;
                case '(' when i + 1 < pattern.Length && pattern[i + 1] == '?':
                    i = TranslateGroupOpening(pattern, i, builder, field, context);
                    continue;
                case '$' when !multiline:
                    builder.Append(@"\z");
                    continue;
                default:
                    builder.Append(c);
                    continue;
            }
        }

        return builder.ToString();
    }

    private static int TranslateGroupOpening(string pattern, int i, StringBuilder builder, string field, IntentionValidationContext context)
    {
        ReadOnlySpan<char> rest = pattern.AsSpan(i + 2);
        if (rest.StartsWith("=") || rest.StartsWith("!") || rest.StartsWith("<=") || rest.StartsWith("<!"))
        {
            throw Refuse(pattern, field, context, "look-around");
        }

        if (rest.StartsWith(">"))
        {
            throw Refuse(pattern, field, context, "atomic groups");
        }

        if (rest.StartsWith("("))
        {
            throw Refuse(pattern, field, context, "conditionals");
        }

        if (rest.StartsWith("P="))
        {
            throw Refuse(pattern, field, context, "back-references");
        }

        if (rest.StartsWith("'"))
        {
            throw Refuse(pattern, field, context, "(?'name') groups");
        }

        if (rest.StartsWith("P<"))
        {
            // RE2's (?P<name>re) is .NET's (?<name>re).
            builder.Append("(?<");
            return i + 3;
        }

        if (rest.StartsWith("<"))
        {
            int close = rest.IndexOf('>');
            if (close > 0 && rest[1..close].Contains('-'))
            {
                throw Refuse(pattern, field, context, "balancing groups");
            }
        }

        builder.Append("(?");
        return i + 1;
    }

    private static bool HasInlineMultiline(string pattern)
    {
        int index = 0;
        while ((index = pattern.IndexOf("(?", index, StringComparison.Ordinal)) >= 0)
        {
            index += 2;
            while (index < pattern.Length && char.IsAsciiLetter(pattern[index]))
            {
                if (pattern[index] == 'm')
                {
                    return true;
                }

                index++;
            }
        }

        return false;
    }

    private static IntentionValidationException Refuse(string pattern, string field, IntentionValidationContext context, string construct) =>
        context.Fail(IntentionValidationRule.RegexNotRe2, field, $"{ErrorQuote.Of(pattern)} uses {construct}, which RE2 (and so Consul) refuses");
}
