using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Naming;
using Mesh.Sni.Routing;
using Mesh.Tls.Authority;
using Mesh.Tls.Validation;

// A user's first lines with the three packages restored from a feed: names, an SNI route, a CA-issued leaf validated as an SVID.
var trustDomain = TrustDomain.Parse("example.consul");
var web = new ServiceIdentity(new ServiceName("web"), "dc1");
SpiffeId id = web.ToSpiffeId(trustDomain);
string sni = ConsulSniName.ForService(new ServiceName("web"), "dc1", trustDomain).ToString();

var routes = new SniRouteTable<string>([new("*.dc2.internal.example.consul", "dc2 gateways"), new(sni, "web endpoints")]);
routes.Lookup("api.default.dc2.internal.example.consul", out string? remote);
routes.Lookup(sni, out string? local);

using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = trustDomain, Datacenter = "dc1" });
LeafCertificate leaf = ca.IssueLeaf(id);
SvidValidationResult result = new SvidValidator(ca.TrustBundleSource).Validate(leaf.Certificate, leaf.Intermediates, PeerAuthorizer.Exact(id));

if (id.ToString() != "spiffe://example.consul/ns/default/dc/dc1/svc/web" || remote != "dc2 gateways" || local != "web endpoints" || !result.IsValid)
{
    Console.Error.WriteLine($"unexpected: {id} {remote} {local} {result}");
    return 1;
}

Console.WriteLine($"consumer OK: {id} via {sni}, leaf valid until {leaf.NotAfter:u}");
return 0;
