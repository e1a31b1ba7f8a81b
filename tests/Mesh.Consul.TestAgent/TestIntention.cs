namespace Mesh.Consul.TestAgent;

/// <summary>
/// An intention as Consul stores it. <see cref="Action"/> is <c>allow</c> or <c>deny</c>; with <see cref="L7"/> the intention has
/// HTTP permissions instead of an action.
/// </summary>
public sealed record TestIntention(string SourceName, string DestinationName, string? Action)
{
    /// <summary>The source namespace or <c>*</c>.</summary>
    public string SourceNamespace { get; init; } = "default";

    /// <summary>The destination namespace or <c>*</c>.</summary>
    public string DestinationNamespace { get; init; } = "default";

    /// <summary>Permissions (one <c>allow</c> on PathPrefix <c>/</c>) instead of an action.</summary>
    public bool L7 { get; init; }

    /// <summary>The intention's ID.</summary>
    public string Id { get; init; } = Guid.NewGuid().ToString();

    /// <summary>Consul's precedence table (docs: connect/intentions "Precedence and Match Order").</summary>
    public int Precedence
    {
        get
        {
            int destination = DestinationNamespace == "*" ? 3 : DestinationName == "*" ? 6 : 9;
            int source = SourceNamespace == "*" ? 2 : SourceName == "*" ? 1 : 0;
            return destination - source;
        }
    }
}
