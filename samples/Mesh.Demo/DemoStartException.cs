namespace Mesh.Demo;

/// <summary>A process of the demo did not become ready; the message names it and says why, in its own words when it said any.</summary>
internal sealed class DemoStartException : Exception
{
    public DemoStartException()
    {
    }

    public DemoStartException(string message)
        : base(message)
    {
    }

    public DemoStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
