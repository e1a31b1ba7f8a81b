using System.Net;

namespace Mesh.Consul.Client;

/// <summary>One answer of the agent with the headers blocking queries use.</summary>
internal sealed record ConsulResponse(HttpStatusCode Status, byte[] Body, ulong? Index, string? ContentHash, bool? CacheHit, TimeSpan? Age);
