using Mesh.Identity;

// The names a packet from dashboard (dc1) to counting (dc2) carries through the mesh.
var trustDomain = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");
var dashboard = new ServiceIdentity(new ServiceName("dashboard"), "dc1");
var counting = new ServiceIdentity(new ServiceName("counting"), "dc2");

Console.WriteLine($"trust domain      {trustDomain}");
Console.WriteLine($"caller identity   {dashboard.ToSpiffeId(trustDomain)}");
Console.WriteLine($"callee identity   {counting.ToSpiffeId(trustDomain)}");
