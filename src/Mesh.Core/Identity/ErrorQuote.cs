namespace Mesh.Identity;

/// <summary>
/// Quotes a user's value in an error message: at most its first 100 characters, so that a 10 KB name neither floods a log
/// line nor makes the message the largest thing in memory. Each message quotes a bad value once.
/// </summary>
internal static class ErrorQuote
{
    internal const int MaxQuotedLength = 100;

    /// <summary><c>'value'</c>, or <c>'first 100 characters…' (N characters)</c> for a longer value.</summary>
    internal static string Of(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        if (value.Length <= MaxQuotedLength)
        {
            return $"'{value}'";
        }

        // Never end on half a surrogate pair.
        int length = char.IsHighSurrogate(value[MaxQuotedLength - 1]) ? MaxQuotedLength - 1 : MaxQuotedLength;
        return $"'{value.AsSpan(0, length)}…' ({value.Length} characters)";
    }

    /// <summary>Shortens every run of more than 100 characters without a separator in a message that was not built here.</summary>
    internal static string ClipRuns(string text)
    {
        int runStart = -1;
        System.Text.StringBuilder? builder = null;
        int copied = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            bool separator = i == text.Length || char.IsWhiteSpace(text[i]) || text[i] is '\'' or '"' or '.' or '[' or ']' or '|' or ',' or ':';
            if (!separator)
            {
                if (runStart < 0)
                {
                    runStart = i;
                }

                continue;
            }

            if (runStart >= 0 && i - runStart > MaxQuotedLength)
            {
                builder ??= new System.Text.StringBuilder(text.Length);
                builder.Append(text, copied, runStart + MaxQuotedLength - copied).Append('…');
                copied = i;
            }

            runStart = -1;
        }

        return builder is null ? text : builder.Append(text, copied, text.Length - copied).ToString();
    }
}
