using System.Buffers;
using System.Text.Json;

namespace Mesh.Intentions;

/// <summary>
/// Rewrites Consul's snake_case keys (<c>path_prefix</c>) so they match the PascalCase model case-insensitively
/// (<c>pathprefix</c>), as Consul's own decoder accepts both. Keys inside <c>Meta</c> and <c>LegacyMeta</c> are user data
/// and are copied unchanged. Also the first pass over the document, so a syntax error is reported with the user's line.
/// </summary>
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
            var reader = new Utf8JsonReader(utf8Json);
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        string name = reader.GetString()!;
                        writer.WritePropertyName(name.Replace("_", string.Empty, StringComparison.Ordinal));
                        if (IsOpaque(name))
                        {
                            reader.Read();
                            using JsonDocument value = JsonDocument.ParseValue(ref reader);
                            value.WriteTo(writer);
                        }

                        break;
                    case JsonTokenType.StartObject:
                        writer.WriteStartObject();
                        break;
                    case JsonTokenType.EndObject:
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

    private static bool IsOpaque(string name) =>
        string.Equals(name, "Meta", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name.Replace("_", string.Empty, StringComparison.Ordinal), "LegacyMeta", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the whole document (validating it) and says whether any key outside metadata holds an underscore.</summary>
    private static bool NeedsTranslation(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        bool needed = false;
        while (reader.Read())
        {
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
