using System.Collections.ObjectModel;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>
/// One intention: which source may (or may not) reach which destination, by an action or by a list of L7 permissions
/// (consul-semantics §5). Immutable and checked when made; its precedence (9…1) is computed from where the wildcards are.
/// </summary>
public sealed class Intention
{
    /// <summary>Consul's limit on a description and on a metadata value.</summary>
    public const int MaxDescriptionLength = 512;

    private const int MaxMetaPairs = 64;
    private const int MaxMetaKeyLength = 128;

    private static readonly IReadOnlyDictionary<string, string> NoMeta = ReadOnlyDictionary<string, string>.Empty;

    private string? _display;

    /// <summary>Creates an L4 intention: every connection and request from the source gets <paramref name="action"/>.</summary>
    /// <exception cref="IntentionValidationException">A rule of consul-semantics §5 is broken.</exception>
    public Intention(IntentionSource source, IntentionDestination destination, IntentionAction action,
        string? id = null, string? description = null, IReadOnlyDictionary<string, string>? meta = null)
        : this(source, destination, action, null, id, description, meta, ContextFor(source, destination))
    {
    }

    /// <summary>Creates an L7 intention: HTTP requests from the source are decided by <paramref name="permissions"/> in order; plain connections are denied.</summary>
    /// <exception cref="IntentionValidationException">A rule of consul-semantics §5 is broken.</exception>
    public Intention(IntentionSource source, IntentionDestination destination, IReadOnlyList<IntentionPermission> permissions,
        string? id = null, string? description = null, IReadOnlyDictionary<string, string>? meta = null)
        : this(source, destination, null, permissions ?? throw new ArgumentNullException(nameof(permissions)), id, description, meta, ContextFor(source, destination))
    {
    }

    internal Intention(IntentionSource source, IntentionDestination destination, IntentionAction? action, IReadOnlyList<IntentionPermission>? permissions,
        string? id, string? description, IReadOnlyDictionary<string, string>? meta, IntentionValidationContext context)
    {
        if (source.IsDefault)
        {
            throw new ArgumentException("The source is the default value and names nothing.", nameof(source));
        }

        if (destination.IsDefault)
        {
            throw new ArgumentException("The destination is the default value and names nothing.", nameof(destination));
        }

        Source = source;
        Destination = destination;
        Id = id ?? string.Empty;
        Description = description ?? string.Empty;
        if (Description.Length > MaxDescriptionLength)
        {
            throw context.Fail(IntentionValidationRule.DescriptionTooLong, "Description", $"is {Description.Length} characters, more than {MaxDescriptionLength}");
        }

        Meta = CheckMeta(meta, context);

        if (permissions is { Count: > 0 })
        {
            if (action is not null)
            {
                throw context.Fail(IntentionValidationRule.ActionWithPermissions, "Action", "must be empty when Permissions are set");
            }

            if (destination.IsWildcardName)
            {
                throw context.Fail(IntentionValidationRule.PermissionsOnWildcardDestination, "Permissions", "L7 permissions cannot be set on a wildcard destination");
            }

            var compiled = new CompiledPermission[permissions.Count];
            var kept = new IntentionPermission[permissions.Count];
            for (int i = 0; i < compiled.Length; i++)
            {
                IntentionPermission permission = permissions[i] ?? throw context.Fail(IntentionValidationRule.EmptyHttpPermission, $"Permissions[{i}]", "is null");
                compiled[i] = CompiledPermission.Compile(permission, $"Permissions[{i}]", context, out string[] methods);
                kept[i] = NormalizeMethods(permission, methods);
            }

            CompiledPermissions = compiled;
            Permissions = kept;
            HasPermissions = true;
        }
        else
        {
            if (action is not (IntentionAction.Allow or IntentionAction.Deny))
            {
                throw context.Fail(IntentionValidationRule.InvalidAction, "Action", "must be 'allow' or 'deny' when no Permissions are set");
            }

            Action = action;
            CompiledPermissions = [];
            Permissions = [];
        }

        // consul-semantics §5: 9 for exact→exact down to 1 for */*→*/*; partition and peer do not count.
        Precedence = (destination.ExactCount * 3) + source.ExactCount + 1;
    }

    /// <summary>Consul's ID of the intention (legacy intentions and the flat API list carry one), or empty.</summary>
    public string Id { get; }

    /// <summary>Who connects.</summary>
    public IntentionSource Source { get; }

    /// <summary>Who is connected to.</summary>
    public IntentionDestination Destination { get; }

    /// <summary>The action of an L4 intention; null when the intention has <see cref="Permissions"/>.</summary>
    public IntentionAction? Action { get; }

    /// <summary>The L7 permissions, in the order they are tried; empty for an L4 intention.</summary>
    public IReadOnlyList<IntentionPermission> Permissions { get; }

    /// <summary>Whether this intention decides per HTTP request (and denies plain connections).</summary>
    public bool HasPermissions { get; }

    /// <summary>A description for people, at most 512 characters.</summary>
    public string Description { get; }

    /// <summary>Opaque metadata.</summary>
    public IReadOnlyDictionary<string, string> Meta { get; }

    /// <summary>Where the intention sorts, 9 (exact source, exact destination) to 1 (<c>*</c> to <c>*</c>).</summary>
    public int Precedence { get; }

    internal CompiledPermission[] CompiledPermissions { get; }

    /// <summary>As Consul prints an intention: <c>web => api (ID: …, Precedence: 9, Action: ALLOW)</c>.</summary>
    public override string ToString() => _display ??= Format();

    private string Format()
    {
        string id = Id.Length > 0 ? $"ID: {Id}, " : string.Empty;
        string detail = HasPermissions ? $"Permissions: {Permissions.Count}" : Action == IntentionAction.Allow ? "Action: ALLOW" : "Action: DENY";
        return $"{Source} => {Destination} ({id}Precedence: {Precedence}, {detail})";
    }

    internal static IntentionValidationContext ContextFor(IntentionSource source, IntentionDestination destination) =>
        new(destination.IsDefault ? null : destination.ToString(), source.IsDefault ? null : source.ToString(), string.Empty);

    private static IntentionPermission NormalizeMethods(IntentionPermission permission, string[] methods)
    {
        bool same = true;
        for (int i = 0; i < methods.Length && same; i++)
        {
            same = string.Equals(methods[i], permission.Http.Methods[i], StringComparison.Ordinal);
        }

        return same ? permission : new IntentionPermission(permission.Action, new IntentionHttpMatch
        {
            PathExact = permission.Http.PathExact,
            PathPrefix = permission.Http.PathPrefix,
            PathRegex = permission.Http.PathRegex,
            Methods = methods,
            Headers = permission.Http.Headers,
        });
    }

    private static IReadOnlyDictionary<string, string> CheckMeta(IReadOnlyDictionary<string, string>? meta, IntentionValidationContext context)
    {
        if (meta is null || meta.Count == 0)
        {
            return NoMeta;
        }

        if (meta.Count > MaxMetaPairs)
        {
            throw context.Fail(IntentionValidationRule.InvalidMeta, "Meta", $"has {meta.Count} pairs, more than {MaxMetaPairs}");
        }

        var copy = new Dictionary<string, string>(meta.Count, StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> pair in meta)
        {
            if (pair.Key.Length > MaxMetaKeyLength)
            {
                throw context.Fail(IntentionValidationRule.InvalidMeta, "Meta", $"key {ErrorQuote.Of(pair.Key)} is longer than {MaxMetaKeyLength} characters");
            }

            if ((pair.Value?.Length ?? 0) > MaxDescriptionLength)
            {
                throw context.Fail(IntentionValidationRule.InvalidMeta, "Meta", $"value of {ErrorQuote.Of(pair.Key)} is longer than {MaxDescriptionLength} characters");
            }

            copy[pair.Key] = pair.Value ?? string.Empty;
        }

        return new ReadOnlyDictionary<string, string>(copy);
    }
}
