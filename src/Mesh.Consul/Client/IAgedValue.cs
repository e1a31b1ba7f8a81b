namespace Mesh.Consul.Client;

/// <summary>A cached value whose age the <c>mesh.consul.cache.age</c> gauge reports.</summary>
internal interface IAgedValue
{
    string Name { get; }

    TimeSpan? Age { get; }
}
