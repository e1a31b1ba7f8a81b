using System.Text.Json;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>
/// Turns a <see cref="JsonException"/> into a field and a problem for an error message. The serializer's message repeats the
/// JSON path (and an unknown key's name) that the field already holds, and neither is bounded; here each appears once, clipped.
/// </summary>
internal static class JsonErrorText
{
    /// <summary>The JSON path of the error (clipped), or <c>line N</c> when the reader failed before a path was known.</summary>
    internal static string Where(JsonException e) =>
        e.Path is { Length: > 0 } path ? ErrorQuote.ClipRuns(path) : e.LineNumber is { } line ? $"line {line + 1}" : string.Empty;

    /// <summary>What is wrong, with the position, without the path.</summary>
    internal static string Problem(JsonException e)
    {
        string message = e.Message;
        int tail = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (tail < 0)
        {
            tail = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        }

        if (tail >= 0)
        {
            message = message[..tail];
        }

        // The unknown key is the last segment of the path already given.
        if (message.StartsWith("The JSON property '", StringComparison.Ordinal) && message.Contains("could not be mapped", StringComparison.Ordinal))
        {
            message = "the key is not known here (keys are matched case-insensitively; check the spelling)";
        }

        string position = e.LineNumber is { } line ? $" (line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1})" : string.Empty;
        return ErrorQuote.ClipRuns(message) + position;
    }
}
