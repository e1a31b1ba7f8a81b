namespace Mesh.Tls.Validation;

/// <summary>Settings of <see cref="SvidValidator"/>.</summary>
public sealed class SvidValidatorOptions
{
    /// <summary>How many successful validations are remembered (by certificate hash and bundle version); 0 turns the cache off.</summary>
    public int CacheCapacity { get; set; } = 4096;
}
