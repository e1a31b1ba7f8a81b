namespace Mesh.Consul.Client;

/// <summary>A failed round of a query, classified; internal to the retry loop.</summary>
internal sealed class ConsulRequestException : Exception
{
    public ConsulRequestException(ConsulFailureClass failureClass, string message, Exception? innerException = null)
        : base(message, innerException) => FailureClass = failureClass;

    public ConsulRequestException()
    {
    }

    public ConsulRequestException(string message)
        : base(message)
    {
    }

    public ConsulRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ConsulFailureClass FailureClass { get; }
}
