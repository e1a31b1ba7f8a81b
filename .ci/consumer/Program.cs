using Mesh.Identity;

// A user's first lines: the packages restore from a feed, the types are there and documented, and they work.
var trustDomain = TrustDomain.Parse("example.consul");
SpiffeId id = new ServiceIdentity(new ServiceName("web"), "dc1").ToSpiffeId(trustDomain);
if (id.ToString() != "spiffe://example.consul/ns/default/dc/dc1/svc/web")
{
    Console.Error.WriteLine($"unexpected SPIFFE ID {id}");
    return 1;
}

Console.WriteLine($"consumer OK: {id}");
return 0;
