namespace Mesh.Intentions;

/// <summary>
/// An intention or <c>service-intentions</c> entry breaks a rule; nothing of the document it came from was loaded.
/// The message names the entry (destination), the source and the rule.
/// </summary>
public sealed class IntentionValidationException : Exception
{
    /// <summary>Creates an exception with no details.</summary>
    public IntentionValidationException()
        : this("The intentions are invalid.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public IntentionValidationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public IntentionValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal IntentionValidationException(IntentionValidationRule rule, string? entry, string? source, string field, string detail, Exception? innerException = null)
        : base(Format(rule, entry, source, field, detail), innerException)
    {
        Rule = rule;
        EntryName = entry;
        SourceName = source;
        Field = field;
    }

    /// <summary>The rule that was broken.</summary>
    public IntentionValidationRule Rule { get; }

    /// <summary>The destination the entry is for, when known.</summary>
    public string? EntryName { get; }

    /// <summary>The source the problem is in, when the problem is in one source.</summary>
    public string? SourceName { get; }

    /// <summary>Where the problem is, in Consul's field notation (<c>Sources[1].Permissions[0].HTTP.PathPrefix</c>), or empty.</summary>
    public string Field { get; } = string.Empty;

    private static string Format(IntentionValidationRule rule, string? entry, string? source, string field, string detail)
    {
        string where = entry is null ? "service-intentions" : $"service-intentions '{entry}'";
        if (source is not null)
        {
            where += $", source '{source}'";
        }

        if (field.Length > 0)
        {
            where += $", {field}";
        }

        return $"{where}: {detail} (rule {rule}).";
    }
}
