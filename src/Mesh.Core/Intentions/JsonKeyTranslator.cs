using System.Buffers;
using System.Text.Json;

namespace Mesh.Intentions;

/// <summary>
/// Rewrites Consul's snake_case keys (<c>path_prefix</c>) so they match the PascalCase model case-insensitively
/// (<c>pathprefix</c>), as Consul's own decoder accepts both. Keys inside <c>Meta</c> and <c>LegacyMeta</c> are user data
/// and are copied unchanged. Also the first pass over the document, so a syntax error is reported with the user's line.
/// Comments are dropped here (a document holding one is always rewritten), so intentions embedded in the control-plane file,
/// which allows comments everywhere, may carry them too.
/// </summary>
/// <remarks>
/// When an object holds both a key and its alias (<c>PathPrefix</c> and <c>path_prefix</c>), the canonical key wins whatever the
/// order, as Consul's <c>lib.TranslateKeys</c> keeps the canonical value and drops the alias; otherwise the last would win,
/// and an alias placed after a narrow <c>PathPrefix</c> could widen an allow.
/// </remarks>
internal static class JsonKeyTranslator
{
    /// <summary>Returns the rewritten document, or null when no key needed rewriting.</summary>
    /// <exception cref="JsonException">The document is not well-formed JSON.</exception>
    public static byte[]? Translate(ReadOnlySpan<byte> utf8Json)
    {
        if (!NeedsTranslation(utf8Json))
        {
            return null;
        }

        var output = new ArrayBufferWriter<byte>(utf8Json.Length);
        using (var writer = new Utf8JsonWriter(output))
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            var canonicalKeys = new Stack<HashSet<string>?>();
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        string name = reader.GetString()!;
                        string translated = name.Replace("_", string.Empty, StringComparison.Ordinal);
                        if (translated.Length != name.Length && canonicalKeys.Peek() is { } canonical && canonical.Contains(translated))
                        {
                            reader.Read();
                            reader.Skip();
                            break;
                        }

                        writer.WritePropertyName(translated);
                        if (IsOpaque(name))
                        {
                            reader.Read();
                            using JsonDocument value = JsonDocument.ParseValue(ref reader);
                            value.WriteTo(writer);
                        }

                        break;
                    case JsonTokenType.StartObject:
                        canonicalKeys.Push(CanonicalKeys(reader));
                        writer.WriteStartObject();
                        break;
                    case JsonTokenType.EndObject:
                        canonicalKeys.Pop();
                        writer.WriteEndObject();
                        break;
                    case JsonTokenType.StartArray:
                        writer.WriteStartArray();
                        break;
                    case JsonTokenType.EndArray:
                        writer.WriteEndArray();
                        break;
                    case JsonTokenType.String:
                        writer.WriteStringValue(reader.GetString());
                        break;
                    case JsonTokenType.Number:
                        writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                        break;
                    case JsonTokenType.True:
                        writer.WriteBooleanValue(true);
                        break;
                    case JsonTokenType.False:
                        writer.WriteBooleanValue(false);
                        break;
                    case JsonTokenType.Null:
                        writer.WriteNullValue();
                        break;
                }
            }
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The keys of the object starting at <paramref name="reader"/> (a copy) that hold no underscore, or null when there are none.</summary>
    private static HashSet<string>? CanonicalKeys(Utf8JsonReader reader)
    {
        HashSet<string>? keys = null;
        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            string name = reader.GetString()!;
            if (!name.Contains('_', StringComparison.Ordinal))
            {
                (keys ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(name);
            }

            reader.Read();
            reader.Skip();
        }

        return keys;
    }

    private static bool IsOpaque(string name) =>
        string.Equals(name, "Meta", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name.Replace("_", string.Empty, StringComparison.Ordinal), "LegacyMeta", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the whole document (validating it) and says whether any key outside metadata holds an underscore, or it holds a comment.</summary>
    private static bool NeedsTranslation(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Allow });
        bool needed = false;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.Comment)
            {
                needed = true;
                continue;
            }

            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            string name = reader.GetString()!;
            if (IsOpaque(name))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            needed |= name.Contains('_', StringComparison.Ordinal);
        }

        return needed;
    }
}
