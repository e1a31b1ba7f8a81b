namespace Mesh.Intentions;

/// <summary>Where a value being validated sits, so an error can name the entry, the source and the field.</summary>
internal readonly record struct IntentionValidationContext(string? Entry, string? Source, string FieldPrefix)
{
    public static IntentionValidationContext None => new(null, null, string.Empty);

    public IntentionValidationException Fail(IntentionValidationRule rule, string field, string detail, Exception? inner = null) =>
        new(rule, Entry, Source, FieldPrefix + field, detail, inner);
}
