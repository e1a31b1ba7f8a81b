using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>The rules for the names in an intention (consul-semantics §5): <c>*</c> only for a whole name or namespace.</summary>
internal static class IntentionNames
{
    public const string Wildcard = "*";

    public static bool IsWildcard(string value) => value.Length == 1 && value[0] == '*';

    /// <summary>A name or namespace: <c>*</c> or a valid part; empty namespace means <c>default</c>.</summary>
    public static string CheckWildcardable(string? value, bool isNamespace, string field, IntentionValidationContext context)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (isNamespace)
            {
                return ServiceName.Default;
            }

            throw context.Fail(context.Source is null ? IntentionValidationRule.NameRequired : IntentionValidationRule.SourceNameRequired, field, "a name is required");
        }

        if (IsWildcard(value))
        {
            return Wildcard;
        }

        if (value.Contains('*', StringComparison.Ordinal))
        {
            throw context.Fail(IntentionValidationRule.PartialWildcard, field, $"{ErrorQuote.Of(value)}: the wildcard '*' may only stand for a whole name or namespace");
        }

        return CheckPart(value, field, context);
    }

    /// <summary>A partition (empty means <c>default</c>) or a peer (empty means local): never a wildcard.</summary>
    public static string CheckExact(string? value, bool emptyMeansDefault, string field, IntentionValidationContext context)
    {
        if (string.IsNullOrEmpty(value))
        {
            return emptyMeansDefault ? ServiceName.Default : string.Empty;
        }

        if (value.Contains('*', StringComparison.Ordinal))
        {
            throw context.Fail(IntentionValidationRule.WildcardPartitionOrPeer, field, $"{ErrorQuote.Of(value)}: partitions and peers are always exact, '*' is not allowed");
        }

        // Partitions are case-insensitive in Consul and kept in lower case, as ServiceName keeps them; peers are exact.
        string part = CheckPart(value, field, context);
        return emptyMeansDefault ? AsciiCase.ToLower(part) : part;
    }

    public static void CheckWildcardOrder(string ns, string name, string field, IntentionValidationContext context)
    {
        if (IsWildcard(ns) && !IsWildcard(name))
        {
            throw context.Fail(IntentionValidationRule.WildcardNamespaceRequiresWildcardName, field, $"{ErrorQuote.Of(name)}: an exact name cannot follow the wildcard namespace '*'");
        }
    }

    private static string CheckPart(string value, string field, IntentionValidationContext context)
    {
        try
        {
            return ServiceName.CheckPart(value, field, nameof(value));
        }
        catch (ArgumentException e)
        {
            throw context.Fail(IntentionValidationRule.InvalidName, field, e.Message.Split(" (Parameter", 2)[0], e);
        }
    }

    /// <summary>The name as Consul prints it: <c>name</c> in the default namespace and partition, else <c>partition/ns/name</c>.</summary>
    public static string Display(string? peer, string partition, string ns, string name)
    {
        string local = partition == ServiceName.Default && ns == ServiceName.Default ? name : $"{partition}/{ns}/{name}";
        return string.IsNullOrEmpty(peer) ? local : $"peer:{peer}/{local}";
    }
}
