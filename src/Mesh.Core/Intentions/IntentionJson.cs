using System.Text;
using System.Text.Json;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>
/// Reads and writes intentions in Consul's JSON formats: <c>service-intentions</c> config entries (one entry or a list, as
/// <c>consul config read</c> and <c>/v1/config/service-intentions</c> give them; PascalCase or snake_case keys) and the
/// flat list of <c>/v1/connect/intentions</c>. Reading checks every rule of consul-semantics §5 and either returns every
/// intention of the document or throws <see cref="IntentionValidationException"/>: nothing is half-loaded.
/// </summary>
public static class IntentionJson
{
    private const string Kind = "service-intentions";

    /// <summary>Reads one <c>service-intentions</c> config entry or a JSON array of them.</summary>
    /// <exception cref="IntentionValidationException">The JSON is malformed or an entry breaks a rule; the message names entry, source and rule.</exception>
    public static IReadOnlyList<Intention> ReadConfigEntries(ReadOnlySpan<byte> utf8Json)
    {
        List<ConfigEntryDto?> entries = Deserialize(utf8Json, static (json, isArray) => isArray
            ? JsonSerializer.Deserialize(json, IntentionJsonContext.Default.ListConfigEntryDto) ?? []
            : [JsonSerializer.Deserialize(json, IntentionJsonContext.Default.ConfigEntryDto)]);

        var intentions = new List<Intention>();
        var destinations = new HashSet<IntentionDestination>();
        for (int k = 0; k < entries.Count; k++)
        {
            ConfigEntryDto entry = entries[k] ?? throw new IntentionValidationException(IntentionValidationRule.MalformedJson, null, null, $"[{k}]", "an entry is null");
            int before = intentions.Count;
            ReadEntry(entry, k, intentions);
            if (!destinations.Add(intentions[before].Destination))
            {
                throw new IntentionValidationException(IntentionValidationRule.DuplicateDestination, entry.Name, null, string.Empty,
                    "more than one service-intentions entry has this destination");
            }
        }

        return intentions;
    }

    /// <inheritdoc cref="ReadConfigEntries(ReadOnlySpan{byte})"/>
    public static IReadOnlyList<Intention> ReadConfigEntries(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ReadConfigEntries(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Reads the flat intention list of <c>GET /v1/connect/intentions</c>.</summary>
    /// <exception cref="IntentionValidationException">The JSON is malformed or an intention breaks a rule.</exception>
    public static IReadOnlyList<Intention> ReadIntentionList(ReadOnlySpan<byte> utf8Json)
    {
        List<IntentionDto?> list = Deserialize(utf8Json, static (json, isArray) => isArray
            ? JsonSerializer.Deserialize(json, IntentionJsonContext.Default.ListIntentionDto) ?? []
            : throw new JsonException("The intention list must be a JSON array."));

        var intentions = new List<Intention>(list.Count);
        var seen = new HashSet<(IntentionSource, IntentionDestination)>();
        for (int i = 0; i < list.Count; i++)
        {
            IntentionDto dto = list[i] ?? throw new IntentionValidationException(IntentionValidationRule.MalformedJson, null, null, $"[{i}]", "an intention is null");
            var context = new IntentionValidationContext(IsLabel(dto.DestinationName) ? dto.DestinationName : null, Label(dto.SourceName, dto.SourceNamespace), $"[{i}].");
            var destination = new IntentionDestination(dto.DestinationName, dto.DestinationNamespace, dto.DestinationPartition, context with { Source = null }, "Destination");
            var source = new IntentionSource(dto.SourceName, dto.SourceNamespace, dto.SourcePartition, dto.SourcePeer, context, "Source");
            if (!string.IsNullOrEmpty(dto.SourceSamenessGroup))
            {
                throw context.Fail(IntentionValidationRule.Unsupported, "SourceSamenessGroup", "sameness groups are not supported by Mesh");
            }

            CheckSourceType(dto.SourceType, "SourceType", context);
            var intention = new Intention(source, destination, ParseAction(dto.Action, dto.Permissions, "Action", context), ReadPermissions(dto.Permissions, context),
                dto.Id, dto.Description, dto.Meta, context);
            if (!seen.Add((source, destination)))
            {
                throw context.Fail(IntentionValidationRule.DuplicateSource, string.Empty, "the list has two intentions with this source and destination");
            }

            intentions.Add(intention);
        }

        return intentions;
    }

    /// <inheritdoc cref="ReadIntentionList(ReadOnlySpan{byte})"/>
    public static IReadOnlyList<Intention> ReadIntentionList(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ReadIntentionList(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>
    /// Writes intentions as a JSON array of <c>service-intentions</c> config entries, one per destination in order of first
    /// appearance, sources in the order given; <c>consul config write</c> and <see cref="ReadConfigEntries(string)"/> read it back.
    /// </summary>
    public static string WriteConfigEntries(IEnumerable<Intention> intentions)
    {
        ArgumentNullException.ThrowIfNull(intentions);
        var entries = new List<ConfigEntryDto?>();
        var byDestination = new Dictionary<IntentionDestination, (ConfigEntryDto Entry, List<Intention> Members)>();
        foreach (Intention intention in intentions)
        {
            ArgumentNullException.ThrowIfNull(intention, nameof(intentions));
            if (!byDestination.TryGetValue(intention.Destination, out var group))
            {
                IntentionDestination d = intention.Destination;
                group = (new ConfigEntryDto
                {
                    Kind = Kind,
                    Name = d.Name,
                    Namespace = NonDefault(d.Namespace),
                    Partition = NonDefault(d.Partition),
                    Sources = [],
                }, []);
                byDestination.Add(d, group);
                entries.Add(group.Entry);
            }

            group.Members.Add(intention);
        }

        foreach ((ConfigEntryDto entry, List<Intention> members) in byDestination.Values)
        {
            // Metadata shared by every source is the entry's; anything else is kept per source, as Consul's LegacyMeta.
            IReadOnlyDictionary<string, string> shared = members[0].Meta;
            bool allShare = members.TrueForAll(m => SameMeta(m.Meta, shared));
            entry.Meta = allShare && shared.Count > 0 ? new Dictionary<string, string>(shared, StringComparer.Ordinal) : null;
            foreach (Intention intention in members)
            {
                IntentionSource s = intention.Source;
                IntentionDestination d = intention.Destination;
                bool peered = s.Peer.Length > 0;

                // The reader gives a local source the entry's namespace and partition where it names none (as Consul does),
                // so a source is written with its own only where they differ; a peered source's are never inherited.
                bool inheritsNamespace = !peered && !d.IsWildcardNamespace;
                entry.Sources!.Add(new SourceIntentionDto
                {
                    Name = s.Name,
                    Namespace = inheritsNamespace ? (s.Namespace == d.Namespace ? null : s.Namespace) : NonDefault(s.Namespace),
                    // A peered source in a non-default partition (which IntentionSource allows, Consul's entries do not) is
                    // written as it is, so reading it back refuses it rather than silently moving it to another partition.
                    Partition = peered ? NonDefault(s.Partition) : s.Partition == d.Partition ? null : s.Partition,
                    Peer = peered ? s.Peer : null,
                    Action = intention.Action is { } action ? ActionText(action) : null,
                    Permissions = WritePermissions(intention),
                    Precedence = intention.Precedence,
                    Type = "consul",
                    Description = intention.Description.Length > 0 ? intention.Description : null,
                    LegacyId = intention.Id.Length > 0 ? intention.Id : null,
                    LegacyMeta = !allShare && intention.Meta.Count > 0 ? new Dictionary<string, string>(intention.Meta, StringComparer.Ordinal) : null,
                });
            }
        }

        return JsonSerializer.Serialize(entries, IntentionJsonContext.Default.ListConfigEntryDto);
    }

    /// <summary>Writes intentions as the flat list of <c>/v1/connect/intentions</c>, in the order given.</summary>
    public static string WriteIntentionList(IEnumerable<Intention> intentions)
    {
        ArgumentNullException.ThrowIfNull(intentions);
        var list = new List<IntentionDto?>();
        foreach (Intention intention in intentions)
        {
            ArgumentNullException.ThrowIfNull(intention, nameof(intentions));
            list.Add(new IntentionDto
            {
                Id = intention.Id.Length > 0 ? intention.Id : null,
                Description = intention.Description.Length > 0 ? intention.Description : null,
                SourcePeer = intention.Source.Peer.Length > 0 ? intention.Source.Peer : null,
                SourceNamespace = intention.Source.Namespace,
                SourceName = intention.Source.Name,
                DestinationNamespace = intention.Destination.Namespace,
                DestinationName = intention.Destination.Name,
                SourcePartition = intention.Source.Partition,
                DestinationPartition = intention.Destination.Partition,
                SourceType = "consul",
                Action = intention.Action is { } action ? ActionText(action) : null,
                Permissions = WritePermissions(intention),
                Meta = intention.Meta.Count > 0 ? new Dictionary<string, string>(intention.Meta, StringComparer.Ordinal) : null,
                Precedence = intention.Precedence,
            });
        }

        return JsonSerializer.Serialize(list, IntentionJsonContext.Default.ListIntentionDto);
    }

    private static List<T> Deserialize<T>(ReadOnlySpan<byte> utf8Json, DeserializeList<T> deserialize)
    {
        try
        {
            byte[]? translated = JsonKeyTranslator.Translate(utf8Json);
            ReadOnlySpan<byte> json = translated ?? utf8Json;
            var reader = new Utf8JsonReader(json);
            if (!reader.Read())
            {
                throw new JsonException("The document is empty.");
            }

            return deserialize(json, reader.TokenType == JsonTokenType.StartArray);
        }
        catch (JsonException e)
        {
            throw new IntentionValidationException(IntentionValidationRule.MalformedJson, null, null, JsonErrorText.Where(e), $"not a valid document: {JsonErrorText.Problem(e)}", e);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader reports text that is not valid UTF-8 (or an escaped lone surrogate) this way.
            throw new IntentionValidationException(IntentionValidationRule.MalformedJson, null, null, string.Empty, $"not a valid document: {ErrorQuote.ClipRuns(e.Message)}", e);
        }
    }

    private delegate List<T> DeserializeList<T>(ReadOnlySpan<byte> json, bool isArray);

    private static void ReadEntry(ConfigEntryDto entry, int index, List<Intention> intentions)
    {
        string? entryName = entry.Name;
        // A name that breaks a rule is quoted by the rule's message; labelling the entry with it too would quote it twice.
        var entryContext = new IntentionValidationContext(IsLabel(entryName) ? entryName : $"#{index}", null, string.Empty);
        if (entry.Kind is not null && !string.Equals(entry.Kind, Kind, StringComparison.OrdinalIgnoreCase))
        {
            throw entryContext.Fail(IntentionValidationRule.WrongKind, "Kind", $"{ErrorQuote.Of(entry.Kind)} is not {Kind}");
        }

        var destination = new IntentionDestination(entryName, entry.Namespace, entry.Partition, entryContext, string.Empty);
        if (entry.Jwt is { ValueKind: not JsonValueKind.Null })
        {
            throw entryContext.Fail(IntentionValidationRule.Unsupported, "JWT", "JWT requirements are not enforced by Mesh, so they are refused rather than ignored");
        }

        if (entry.Sources is not { Count: > 0 })
        {
            throw entryContext.Fail(IntentionValidationRule.SourcesRequired, "Sources", "at least one source is required");
        }

        var seen = new HashSet<IntentionSource>();
        for (int i = 0; i < entry.Sources.Count; i++)
        {
            string field = $"Sources[{i}]";
            SourceIntentionDto source = entry.Sources[i] ?? throw entryContext.Fail(IntentionValidationRule.MalformedJson, field, "a source is null");
            var context = new IntentionValidationContext(entryContext.Entry, Label(source.Name, source.Namespace), field + ".");
            if (!string.IsNullOrEmpty(source.SamenessGroup))
            {
                throw context.Fail(IntentionValidationRule.Unsupported, "SamenessGroup", "sameness groups are not supported by Mesh");
            }

            // Consul (ServiceIntentionsConfigEntry.validate): "cannot set Peer and Partition at the same time"; a peered
            // source lives in the peer's partition, which the exporting side names.
            bool peered = !string.IsNullOrEmpty(source.Peer);
            if (peered && !string.IsNullOrEmpty(source.Partition))
            {
                throw context.Fail(IntentionValidationRule.PeerWithPartition, "Peer", "cannot be set together with Partition, as Consul refuses it");
            }

            // Consul's normalization: a source that is not peered takes the entry's namespace and partition where it names
            // none (EnterpriseMeta.MergeNoWildcard, so a '*' namespace is not inherited); a peered source defaults to 'default'.
            string? sourceNamespace = source.Namespace;
            string? sourcePartition = source.Partition;
            if (!peered)
            {
                if (string.IsNullOrEmpty(sourceNamespace) && !IntentionNames.IsWildcard(destination.Namespace))
                {
                    sourceNamespace = destination.Namespace;
                }

                if (string.IsNullOrEmpty(sourcePartition))
                {
                    sourcePartition = destination.Partition;
                }
            }

            var intentionSource = new IntentionSource(source.Name, sourceNamespace, sourcePartition, source.Peer, context, string.Empty);

            CheckSourceType(source.Type, "Type", context);
            var intention = new Intention(intentionSource, destination, ParseAction(source.Action, source.Permissions, "Action", context), ReadPermissions(source.Permissions, context),
                source.LegacyId, source.Description, source.LegacyMeta ?? entry.Meta, context);
            if (!seen.Add(intentionSource))
            {
                throw new IntentionValidationException(IntentionValidationRule.DuplicateSource, context.Entry, context.Source, field, $"defines source '{intentionSource}' more than once");
            }

            intentions.Add(intention);
        }
    }

    private static IntentionAction? ParseAction(string? text, List<PermissionDto?>? permissions, string field, IntentionValidationContext context)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (permissions is { Count: > 0 })
        {
            throw context.Fail(IntentionValidationRule.ActionWithPermissions, field, "must be empty when Permissions are set");
        }

        return TryParseAction(text) ?? throw context.Fail(IntentionValidationRule.InvalidAction, field, $"{ErrorQuote.Of(text)} is not 'allow' or 'deny'");
    }

    // Consul compares actions exactly (IntentionActionAllow = "allow"): "ALLOW" is refused, not read as allow.
    private static IntentionAction? TryParseAction(string? text) =>
        string.Equals(text, "allow", StringComparison.Ordinal) ? IntentionAction.Allow
        : string.Equals(text, "deny", StringComparison.Ordinal) ? IntentionAction.Deny
        : null;

    private static List<IntentionPermission>? ReadPermissions(List<PermissionDto?>? permissions, IntentionValidationContext context)
    {
        if (permissions is null)
        {
            return null;
        }

        var result = new List<IntentionPermission>(permissions.Count);
        for (int j = 0; j < permissions.Count; j++)
        {
            string field = $"Permissions[{j}]";
            PermissionDto permission = permissions[j] ?? throw context.Fail(IntentionValidationRule.EmptyHttpPermission, field, "a permission is null");
            IntentionAction action = TryParseAction(permission.Action)
                ?? throw context.Fail(IntentionValidationRule.InvalidPermissionAction, field + ".Action", $"{ErrorQuote.Of(permission.Action)} is not 'allow' or 'deny'");
            if (permission.Jwt is { ValueKind: not JsonValueKind.Null })
            {
                throw context.Fail(IntentionValidationRule.Unsupported, field + ".JWT", "JWT requirements are not enforced by Mesh, so they are refused rather than ignored");
            }

            HttpMatchDto http = permission.Http ?? throw context.Fail(IntentionValidationRule.EmptyHttpPermission, field + ".HTTP", "a permission needs a non-empty HTTP block");
            var headers = new List<IntentionHeaderMatch>();
            for (int h = 0; h < (http.Header?.Count ?? 0); h++)
            {
                HeaderMatchDto header = http.Header![h] ?? throw context.Fail(IntentionValidationRule.HeaderNameRequired, $"{field}.HTTP.Header[{h}]", "a header matcher is null");
                if (header.Contains is not null || header.IgnoreCase)
                {
                    throw context.Fail(IntentionValidationRule.Unsupported, $"{field}.HTTP.Header[{h}]", "Contains and IgnoreCase header matchers are not supported by Mesh");
                }

                headers.Add(new IntentionHeaderMatch
                {
                    Name = header.Name ?? string.Empty,
                    Present = header.Present,
                    Exact = header.Exact,
                    Prefix = header.Prefix,
                    Suffix = header.Suffix,
                    Regex = header.Regex,
                    Invert = header.Invert,
                });
            }

            var methods = new List<string>();
            foreach (string? method in http.Methods ?? [])
            {
                methods.Add(method ?? string.Empty);
            }

            result.Add(new IntentionPermission(action, new IntentionHttpMatch
            {
                PathExact = http.PathExact,
                PathPrefix = http.PathPrefix,
                PathRegex = http.PathRegex,
                Methods = methods,
                Headers = headers,
            }));
        }

        return result;
    }

    private static List<PermissionDto?>? WritePermissions(Intention intention)
    {
        if (!intention.HasPermissions)
        {
            return null;
        }

        var result = new List<PermissionDto?>(intention.Permissions.Count);
        foreach (IntentionPermission permission in intention.Permissions)
        {
            IntentionHttpMatch http = permission.Http;
            var headers = new List<HeaderMatchDto?>();
            foreach (IntentionHeaderMatch header in http.Headers)
            {
                headers.Add(new HeaderMatchDto
                {
                    Name = header.Name,
                    Present = header.Present,
                    Exact = header.Exact,
                    Prefix = header.Prefix,
                    Suffix = header.Suffix,
                    Regex = header.Regex,
                    Invert = header.Invert,
                });
            }

            result.Add(new PermissionDto
            {
                Action = ActionText(permission.Action),
                Http = new HttpMatchDto
                {
                    PathExact = http.PathExact,
                    PathPrefix = http.PathPrefix,
                    PathRegex = http.PathRegex,
                    Methods = http.Methods.Count > 0 ? [.. http.Methods] : null,
                    Header = headers.Count > 0 ? headers : null,
                },
            });
        }

        return result;
    }

    private static void CheckSourceType(string? type, string field, IntentionValidationContext context)
    {
        if (!string.IsNullOrEmpty(type) && !string.Equals(type, "consul", StringComparison.Ordinal))
        {
            throw context.Fail(IntentionValidationRule.Unsupported, field, $"source type {ErrorQuote.Of(type)} is not supported; only 'consul' services can be sources");
        }
    }

    // Empty (never null: a source context is how a missing name is told from a missing destination) when the name is missing
    // or is itself the bad value, which the rule's message quotes.
    private static string Label(string? name, string? ns) =>
        !IsLabel(name) ? string.Empty
        : string.IsNullOrEmpty(ns) || ns == ServiceName.Default || !IsLabel(ns) ? name
        : $"{ns}/{name}";

    private static bool IsLabel([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? name) =>
        name is not null && (IntentionNames.IsWildcard(name) || ServiceName.IsValidPart(name));

    private static string ActionText(IntentionAction action) => action == IntentionAction.Allow ? "allow" : "deny";

    private static string? NonDefault(string value) => value == ServiceName.Default ? null : value;

    private static bool SameMeta(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (KeyValuePair<string, string> pair in a)
        {
            if (!b.TryGetValue(pair.Key, out string? value) || !string.Equals(value, pair.Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
