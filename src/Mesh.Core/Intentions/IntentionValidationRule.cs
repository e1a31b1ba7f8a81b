namespace Mesh.Intentions;

/// <summary>The rule an intention or a <c>service-intentions</c> entry broke (consul-semantics §5).</summary>
public enum IntentionValidationRule
{
    /// <summary>The document is not well-formed JSON, or a value has the wrong JSON type, or a key is unknown.</summary>
    MalformedJson,

    /// <summary>The entry's <c>Kind</c> is present and is not <c>service-intentions</c>.</summary>
    WrongKind,

    /// <summary>The entry has no <c>Name</c> (destination).</summary>
    NameRequired,

    /// <summary>The entry has no sources.</summary>
    SourcesRequired,

    /// <summary>A source has no <c>Name</c>.</summary>
    SourceNameRequired,

    /// <summary>A name, namespace, partition or peer holds characters that cannot form a SPIFFE ID segment or SNI label.</summary>
    InvalidName,

    /// <summary><c>*</c> appears in part of a name or namespace (<c>web-*</c>); only a whole name or namespace may be <c>*</c>.</summary>
    PartialWildcard,

    /// <summary>A namespace is <c>*</c> but the name is exact.</summary>
    WildcardNamespaceRequiresWildcardName,

    /// <summary>A partition or peer is <c>*</c>; they are always exact.</summary>
    WildcardPartitionOrPeer,

    /// <summary>An intention without permissions has an action other than <c>allow</c> or <c>deny</c>.</summary>
    InvalidAction,

    /// <summary>An intention has both an action and permissions.</summary>
    ActionWithPermissions,

    /// <summary>An intention with L7 permissions targets a wildcard destination.</summary>
    PermissionsOnWildcardDestination,

    /// <summary>A permission's action is not <c>allow</c> or <c>deny</c>.</summary>
    InvalidPermissionAction,

    /// <summary>A permission has no <c>HTTP</c> block or an empty one.</summary>
    EmptyHttpPermission,

    /// <summary>A path matcher does not start with <c>/</c>.</summary>
    PathMustStartWithSlash,

    /// <summary>A permission has more than one of <c>PathExact</c>, <c>PathPrefix</c>, <c>PathRegex</c>.</summary>
    MultiplePathMatchers,

    /// <summary>A header matcher has no <c>Name</c>.</summary>
    HeaderNameRequired,

    /// <summary>A header matcher has none or more than one of <c>Present</c>, <c>Exact</c>, <c>Prefix</c>, <c>Suffix</c>, <c>Regex</c>.</summary>
    HeaderMatcherKind,

    /// <summary>A method is not an HTTP method Consul accepts.</summary>
    InvalidMethod,

    /// <summary>A method appears twice in one permission.</summary>
    DuplicateMethod,

    /// <summary>Two sources of one destination name the same source service.</summary>
    DuplicateSource,

    /// <summary>Two entries name the same destination.</summary>
    DuplicateDestination,

    /// <summary>A description is longer than 512 characters.</summary>
    DescriptionTooLong,

    /// <summary>Metadata has more than 64 pairs, a key longer than 128 or a value longer than 512 characters.</summary>
    InvalidMeta,

    /// <summary>A regular expression does not parse.</summary>
    InvalidRegex,

    /// <summary>A regular expression uses a construct RE2 refuses (back-references, look-around, atomic groups, conditionals, <c>\Z</c>, <c>\G</c>).</summary>
    RegexNotRe2,

    /// <summary>A feature Mesh cannot enforce (JWT requirements, sameness groups, non-Consul source types); refused rather than ignored.</summary>
    Unsupported,

    /// <summary>A source names both a <c>Peer</c> and a <c>Partition</c>; a peered source's partition is the peer's, so Consul refuses both.</summary>
    PeerWithPartition,

    /// <summary>
    /// A regular expression's compiled program is larger than RE2's budget of 100 instructions, the limit at which Envoy refuses it
    /// (<c>re2.max_program_size.error_level</c>); such patterns cost far more per request than their length suggests.
    /// </summary>
    RegexTooComplex,
}
