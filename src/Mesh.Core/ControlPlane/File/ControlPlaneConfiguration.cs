using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.ControlPlane.File;

/// <summary>
/// A validated control-plane file: the trust domain, the CA's address and tokens, the mesh gateways of each datacenter, the
/// services with their endpoints and upstreams, and the intentions. Immutable; a reload produces a new instance.
/// </summary>
public sealed class ControlPlaneConfiguration
{
    private ControlPlaneConfiguration(
        TrustDomain trustDomain,
        Uri? certificateAuthorityAddress,
        IReadOnlyList<CertificateAuthorityToken> certificateAuthorityTokens,
        TimeSpan? leafTtl,
        IReadOnlyList<string> datacenters,
        IReadOnlyList<MeshGatewayEndpoint> meshGateways,
        IReadOnlyList<ServiceDefinition> services,
        IntentionSet intentions)
    {
        TrustDomain = trustDomain;
        CertificateAuthorityAddress = certificateAuthorityAddress;
        CertificateAuthorityTokens = certificateAuthorityTokens;
        LeafTtl = leafTtl;
        Datacenters = datacenters;
        MeshGateways = meshGateways;
        Services = services;
        Intentions = intentions;
    }

    /// <summary>The mesh's trust domain.</summary>
    public TrustDomain TrustDomain { get; }

    /// <summary>The base address of the CA role's HTTP API, if the file names one.</summary>
    public Uri? CertificateAuthorityAddress { get; }

    /// <summary>
    /// The tokens the CA accepts on signing requests, each naming exactly what it allows: one service in one namespace and
    /// partition (as Consul's ACL <c>service:write</c>), or the mesh gateways of one partition.
    /// </summary>
    public IReadOnlyList<CertificateAuthorityToken> CertificateAuthorityTokens { get; }

    /// <summary>The token the file lists for a service (its name, namespace and partition), or null.</summary>
    public CertificateAuthorityToken? FindServiceToken(ServiceName service)
    {
        foreach (CertificateAuthorityToken token in CertificateAuthorityTokens)
        {
            if (token.Kind == CertificateAuthorityTokenKind.Service && token.Service == service)
            {
                return token;
            }
        }

        return null;
    }

    /// <summary>The leaf TTL the CA issues, when the file sets one (the CA's default otherwise).</summary>
    public TimeSpan? LeafTtl { get; }

    /// <summary>The datacenters of the mesh.</summary>
    public IReadOnlyList<string> Datacenters { get; }

    /// <summary>Every mesh gateway of every datacenter.</summary>
    public IReadOnlyList<MeshGatewayEndpoint> MeshGateways { get; }

    /// <summary>Every service instance.</summary>
    public IReadOnlyList<ServiceDefinition> Services { get; }

    /// <summary>
    /// The intentions of the file's <c>service-intentions</c> entries, with the file's default policy: deny unless
    /// <c>DefaultIntentionPolicy</c> says <c>allow</c> (Mesh is zero trust; Consul without ACLs defaults to allow).
    /// </summary>
    public IntentionSet Intentions { get; }

    /// <summary>Finds a service instance by its ID, or by its service name when the name is unique in the file.</summary>
    public ServiceDefinition? FindService(string idOrName)
    {
        ArgumentNullException.ThrowIfNull(idOrName);
        ServiceDefinition? byName = null;
        int nameMatches = 0;
        foreach (ServiceDefinition service in Services)
        {
            if (string.Equals(service.Id, idOrName, StringComparison.Ordinal))
            {
                return service;
            }

            if (string.Equals(service.Identity.Service.Name, idOrName, StringComparison.Ordinal))
            {
                byName = service;
                nameMatches++;
            }
        }

        return nameMatches == 1 ? byName : null;
    }

    /// <summary>Reads and validates a control-plane file.</summary>
    /// <exception cref="ControlPlaneFileException">The file is missing, is not JSON, or a field breaks a rule; the message names it.</exception>
    public static ControlPlaneConfiguration Load(string path) => Load(path, DefaultMaxFileBytes);

    /// <summary>The largest control-plane file read unless the caller sets another cap: 64 MiB.</summary>
    public const long DefaultMaxFileBytes = 64L * 1024 * 1024;

    /// <summary>Reads and validates a control-plane file, refusing it unread when it is larger than <paramref name="maxFileBytes"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxFileBytes">The largest file accepted, in bytes (<see cref="DefaultMaxFileBytes"/> by default).</param>
    /// <exception cref="ControlPlaneFileException">The file is missing, too large, is not JSON, or a field breaks a rule; the message names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxFileBytes"/> is zero or negative.</exception>
    public static ControlPlaneConfiguration Load(string path, long maxFileBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFileBytes);
        return Parse(Read(path, maxFileBytes), path);
    }

    // The cap is checked on the open file's length before anything is read, and again on what is read, since the file may
    // grow between the two (an editor still writing it).
    private static byte[] Read(string path, long maxFileBytes)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1, FileOptions.SequentialScan);
            long length = stream.Length;
            if (length > maxFileBytes)
            {
                throw TooLarge(path, length, maxFileBytes);
            }

            int limit = (int)Math.Min(maxFileBytes, Array.MaxLength - 1L);
            var buffer = new byte[(int)Math.Min(length, limit) + 1];
            int total = 0;
            int read;
            while ((read = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += read;
                if (total == buffer.Length)
                {
                    if (total > limit)
                    {
                        throw TooLarge(path, total, maxFileBytes);
                    }

                    Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, limit + 1L));
                }
            }

            return buffer.AsSpan(0, total).ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            throw new ControlPlaneFileException(path, "(file)", $"cannot be read: {ErrorQuote.ClipRuns(ex.Message)}", ex);
        }
    }

    private static ControlPlaneFileException TooLarge(string path, long length, long maxFileBytes) =>
        new(path, "(file)", $"is {length} bytes or more, larger than the cap of {maxFileBytes} bytes; it was not parsed (raise the cap if the file is meant to be this large)");

    /// <summary>Validates a control-plane document given as UTF-8 JSON.</summary>
    /// <param name="utf8Json">The document.</param>
    /// <param name="sourceName">A name for messages, such as the file path.</param>
    /// <exception cref="ControlPlaneFileException">The JSON is malformed or a field breaks a rule; the message names it.</exception>
    public static ControlPlaneConfiguration Parse(ReadOnlySpan<byte> utf8Json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);

        // Editors on some systems start UTF-8 files with a byte-order mark, which the JSON reader does not skip over a span.
        if (utf8Json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            utf8Json = utf8Json[3..];
        }

        ControlPlaneDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(utf8Json, ControlPlaneJsonContext.Default.ControlPlaneDocument);
        }
        catch (JsonException ex)
        {
            throw new ControlPlaneFileException(sourceName, ex.Path is null ? "$" : JsonErrorText.Where(ex), $"invalid JSON: {JsonErrorText.Problem(ex)}", ex);
        }
        catch (InvalidOperationException ex)
        {
            // The reader reports text that is not UTF-8 (or an escaped lone surrogate) this way when a value is read as a string.
            throw new ControlPlaneFileException(sourceName, "$", $"invalid JSON: {ErrorQuote.ClipRuns(ex.Message)}", ex);
        }

        if (document is null)
        {
            throw new ControlPlaneFileException(sourceName, "$", "the document is empty");
        }

        return new Validator(sourceName).Validate(document);
    }

    private sealed class Validator(string source)
    {
        public ControlPlaneConfiguration Validate(ControlPlaneDocument document)
        {
            if (string.IsNullOrEmpty(document.TrustDomain))
            {
                throw Fail("TrustDomain", "is required (for example \"<cluster-uuid>.consul\")");
            }

            if (!TrustDomain.TryParse(document.TrustDomain, out TrustDomain trustDomain, out SpiffeIdError tdError))
            {
                throw Fail("TrustDomain", $"{ErrorQuote.Of(document.TrustDomain)} is not a valid trust domain: {SpiffeId.Describe(tdError)}");
            }

            Uri? caAddress = null;
            if (document.CA?.Address is { } address && !Uri.TryCreate(address, UriKind.Absolute, out caAddress))
            {
                throw Fail("CA.Address", $"'{address}' is not an absolute URL such as http://127.0.0.1:8501");
            }

            IReadOnlyList<CertificateAuthorityToken> caTokens = CertificateAuthorityTokenReader.Read(document.CA?.Tokens, Fail);

            TimeSpan? leafTtl = null;
            if (document.CA?.LeafTtlHours is double hours)
            {
                leafTtl = hours > 0 && hours <= 8760 ? TimeSpan.FromHours(hours) : throw Fail("CA.LeafTtlHours", "must be above 0 and at most 8760");
            }

            var datacenters = new List<string>();
            var gateways = new List<MeshGatewayEndpoint>();
            List<DatacenterDocument?> dcDocuments = document.Datacenters ?? [];
            for (int i = 0; i < dcDocuments.Count; i++)
            {
                string at = $"Datacenters[{i}]";
                DatacenterDocument datacenter = dcDocuments[i] ?? throw Null(at);
                string name = Part(datacenter.Name, at + ".Name", "datacenter");
                if (datacenters.Contains(name))
                {
                    throw Fail(at + ".Name", $"datacenter {ErrorQuote.Of(name)} is listed twice");
                }

                datacenters.Add(name);
                List<MeshGatewayDocument?> gatewayDocuments = datacenter.MeshGateways ?? [];
                for (int g = 0; g < gatewayDocuments.Count; g++)
                {
                    string gat = $"{at}.MeshGateways[{g}]";
                    MeshGatewayDocument gateway = gatewayDocuments[g] ?? throw Null(gat);
                    IPEndPoint lan = EndPoint(gateway.LanAddress, gat + ".LanAddress");
                    IPEndPoint wan = gateway.WanAddress is null ? lan : EndPoint(gateway.WanAddress, gat + ".WanAddress");
                    // Partitions are case-insensitive (Consul writes them in lower case), as ServiceName keeps them.
                    string? partition = gateway.Partition is { } p ? AsciiCase.ToLower(Part(p, gat + ".Partition", "partition")) : null;
                    gateways.Add(new MeshGatewayEndpoint(name, lan, wan, partition));
                }
            }

            var services = new List<ServiceDefinition>();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            List<ServiceDocument?> serviceDocuments = document.Services ?? [];
            for (int i = 0; i < serviceDocuments.Count; i++)
            {
                ServiceDefinition service = ValidateService(serviceDocuments[i] ?? throw Null($"Services[{i}]"), $"Services[{i}]", datacenters);
                if (!ids.Add(service.Id))
                {
                    throw Fail($"Services[{i}].ID", $"service ID {ErrorQuote.Of(service.Id)} is used twice; give each instance its own ID");
                }

                services.Add(service);
            }

            IntentionAction defaultAction = document.DefaultIntentionPolicy switch
            {
                null or "deny" => IntentionAction.Deny,
                "allow" => IntentionAction.Allow,
                string other => throw Fail("DefaultIntentionPolicy", $"{ErrorQuote.Of(other)} is neither \"allow\" nor \"deny\""),
            };

            IntentionSet intentions;
            try
            {
                intentions = document.Intentions.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
                    ? new IntentionSet([], defaultAction)
                    : new IntentionSet(IntentionJson.ReadConfigEntries(JsonMarshal.GetRawUtf8Value(document.Intentions)), defaultAction);
            }
            catch (IntentionValidationException ex)
            {
                throw new ControlPlaneFileException(source, "Intentions", ex.Message, ex);
            }

            return new ControlPlaneConfiguration(
                trustDomain,
                caAddress,
                caTokens,
                leafTtl,
                datacenters,
                gateways,
                services,
                intentions);
        }

        private ServiceDefinition ValidateService(ServiceDocument doc, string at, List<string> datacenters)
        {
            string name = Part(doc.Name, at + ".Name", "service name");
            string dc = Part(doc.Datacenter, at + ".Datacenter", "datacenter");
            if (datacenters.Count > 0 && !datacenters.Contains(dc))
            {
                throw Fail(at + ".Datacenter", $"datacenter {ErrorQuote.Of(dc)} is not listed under Datacenters");
            }

            string? ns = doc.Namespace is null ? null : Part(doc.Namespace, at + ".Namespace", "namespace");
            string? partition = doc.Partition is null ? null : Part(doc.Partition, at + ".Partition", "partition");
            var identity = new ServiceIdentity(new ServiceName(name, ns, partition), dc);
            IPEndPoint application = new(Address(doc.Address, at + ".Address"), Port(doc.Port, at + ".Port"));

            bool native = doc.Connect?.Native ?? false;
            SidecarServiceDocument? sidecar = doc.Connect?.SidecarService;
            if (native == (sidecar is not null))
            {
                throw Fail(at + ".Connect", "set exactly one of Native (the service terminates mesh mTLS itself) and SidecarService");
            }

            IPEndPoint meshAddress = native
                ? application
                : new IPEndPoint(sidecar!.Address is null ? application.Address : Address(sidecar.Address, at + ".Connect.SidecarService.Address"), Port(sidecar.Port, at + ".Connect.SidecarService.Port"));

            var upstreams = new List<UpstreamDefinition>();
            List<UpstreamDocument?> upstreamDocuments = sidecar?.Proxy?.Upstreams ?? [];
            for (int u = 0; u < upstreamDocuments.Count; u++)
            {
                string uat = $"{at}.Connect.SidecarService.Proxy.Upstreams[{u}]";
                UpstreamDocument up = upstreamDocuments[u] ?? throw Null(uat);
                var destination = new ServiceName(
                    Part(up.DestinationName, uat + ".DestinationName", "service name"),
                    up.DestinationNamespace is null ? null : Part(up.DestinationNamespace, uat + ".DestinationNamespace", "namespace"),
                    up.DestinationPartition is null ? null : Part(up.DestinationPartition, uat + ".DestinationPartition", "partition"));
                string upstreamDc = up.Datacenter is null ? dc : Part(up.Datacenter, uat + ".Datacenter", "datacenter");
                IPAddress bind = up.LocalBindAddress is null ? IPAddress.Loopback : Address(up.LocalBindAddress, uat + ".LocalBindAddress");
                upstreams.Add(new UpstreamDefinition(destination, upstreamDc, new IPEndPoint(bind, Port(up.LocalBindPort, uat + ".LocalBindPort"))));
            }

            bool healthy = doc.Status switch
            {
                null or "passing" => true,
                "warning" or "critical" => false,
                string other => throw Fail(at + ".Status", $"{ErrorQuote.Of(other)} is not one of passing, warning, critical"),
            };

            return new ServiceDefinition(
                doc.ID ?? name,
                identity,
                application,
                meshAddress,
                native,
                healthy,
                Meta(doc.Meta, at + ".Meta"),
                upstreams).WithCheck(doc.Check, at + ".Check", Fail);
        }

        private string Part(string? value, string field, string what)
        {
            if (string.IsNullOrEmpty(value))
            {
                throw Fail(field, "is required");
            }

            string? problem = ServiceName.DescribeInvalidPart(value);
            return problem is null ? value : throw Fail(field, $"the {what} {ErrorQuote.Of(value)} is not usable in the mesh: {problem}");
        }

        private Dictionary<string, string> Meta(Dictionary<string, string?>? meta, string field)
        {
            var checkedMeta = new Dictionary<string, string>(meta?.Count ?? 0, StringComparer.Ordinal);
            if (meta is null)
            {
                return checkedMeta;
            }

            if (ServiceMetaRules.DescribeTooMany(meta.Count) is { } tooMany)
            {
                throw Fail(field, tooMany);
            }

            foreach ((string key, string? value) in meta)
            {
                if (ServiceMetaRules.DescribeInvalidPair(key, value) is { } problem)
                {
                    throw Fail(field, problem);
                }

                checkedMeta.Add(key, value!);
            }

            return checkedMeta;
        }

        private IPAddress Address(string? value, string field) =>
            IPAddress.TryParse(value, out IPAddress? address) ? address : throw Fail(field, $"{ErrorQuote.Of(value)} is not an IP address");

        private IPEndPoint EndPoint(string? value, string field) =>
            IPEndPoint.TryParse(value ?? string.Empty, out IPEndPoint? endPoint) && endPoint.Port != 0
                ? endPoint
                : throw Fail(field, $"{ErrorQuote.Of(value)} is not an address with a port such as 127.0.1.10:8443");

        private int Port(int value, string field) =>
            value is > 0 and <= 65535 ? value : throw Fail(field, $"{value} is not a port (1-65535)");

        private ControlPlaneFileException Fail(string field, string problem) => new(source, field, problem);

        private ControlPlaneFileException Null(string field) => Fail(field, "is null; give an object or remove the entry");
    }

}
