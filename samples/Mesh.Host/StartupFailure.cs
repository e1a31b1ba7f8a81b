using System.Net;
using Mesh.Consul;
using Mesh.ControlPlane.File;
using Mesh.Tls.Authority;

namespace Mesh.Host;

/// <summary>
/// Turns a start-up failure into the one line the host prints and the exit code --help documents. The stack trace is for
/// --verbose only: an operator needs to know what to fix, not where the host noticed it.
/// </summary>
internal static class StartupFailure
{
    public static int Report(Exception exception, HostArguments arguments, ControlPlaneConfiguration? configuration, IPEndPoint? kestrelAddress)
    {
        (int exitCode, string message) = Describe(exception, arguments, configuration, kestrelAddress);
        Console.Error.WriteLine($"Mesh.Host: {OneLine(message)}");
        if (arguments.Verbose)
        {
            Console.Error.WriteLine(exception.ToString());
        }

        return exitCode;
    }

    private static (int ExitCode, string Message) Describe(Exception exception, HostArguments arguments, ControlPlaneConfiguration? configuration, IPEndPoint? kestrelAddress)
    {
        // Host.StartAsync wraps the failures of several services in one AggregateException, and a library may wrap the CA's
        // refusal or a file error: the innermost failure the operator can act on is the one to report.
        for (Exception? inner = exception; inner is not null; inner = inner is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : inner.InnerException)
        {
            if (inner is HostStartupException or ControlPlaneFileException or CertificateSigningException or ConsulPermissionDeniedException)
            {
                exception = inner;
                break;
            }
        }

        while (exception is AggregateException { InnerExceptions.Count: 1 } single)
        {
            exception = single.InnerExceptions[0];
        }

        switch (exception)
        {
            case HostStartupException startup:
                return (startup.ExitCode, startup.Message);
            case ControlPlaneFileException file:
                return (HostExitCodes.Configuration, file.Message);
            case CertificateSigningException refused:
                return (HostExitCodes.RefusedByCa, $"{refused.Message} ({refused.Error}; retrying cannot help: check --token and the file's CA.Tokens)");
            case ConsulPermissionDeniedException denied:
                // A 403 is an ACL decision: retrying with the same token cannot help, so it ends like the CA's refusal.
                return (HostExitCodes.RefusedByCa, $"the Consul agent refused: {denied.Message} (give the token the permission, or pass another with --token or CONSUL_HTTP_TOKEN)");
            case HttpRequestException unreachable:
                return (HostExitCodes.CaUnreachable, $"the CA at {configuration?.CertificateAuthorityAddress} cannot be reached: {unreachable.Message}");
            case OperationCanceledException:
                return (HostExitCodes.Success, "stopped before start-up completed");
        }

        if (ListenAddresses.IsAddressInUse(exception))
        {
            // Kestrel binds last and says "Failed to bind to address": then it is its own address. Otherwise one of the role's
            // listeners failed; the role has released its own by now, so the one still taken is the culprit.
            bool kestrel = exception is IOException && kestrelAddress is not null && exception.Message.Contains("Failed to bind", StringComparison.Ordinal);
            (string What, IPEndPoint Address)? taken = kestrel
                ? (KestrelRole(arguments), kestrelAddress!)
                : ListenAddresses.FindTaken(RoleListeners(arguments, configuration));
            return taken is { } found
                ? (HostExitCodes.AddressInUse, HostStartupException.AddressInUse(found.What, found.Address).Message)
                : (HostExitCodes.AddressInUse, $"an address the {arguments.Role} listens on is already in use: {exception.Message}");
        }

        string hint = arguments.Verbose ? string.Empty : " (run with --verbose for the stack trace)";
        return (HostExitCodes.Unexpected, $"{exception.GetType().Name}: {exception.Message}{hint}");
    }

    private static string KestrelRole(HostArguments arguments) =>
        arguments.Role == "ca" ? "the CA" : $"the {arguments.Role}'s health endpoint (--health)";

    private static IEnumerable<(string What, IPEndPoint Address)> RoleListeners(HostArguments arguments, ControlPlaneConfiguration? configuration)
    {
        if (configuration is null)
        {
            // With Consul the listeners come from the agent's registrations; the role names its own address when it can.
            yield break;
        }

        if (arguments.Role == "gateway")
        {
            foreach (Mesh.ControlPlane.MeshGatewayEndpoint gateway in configuration.MeshGateways.Where(g => g.Datacenter == arguments.Datacenter).Take(1))
            {
                yield return ($"the mesh gateway of '{arguments.Datacenter}' (LAN address)", gateway.LanAddress);
                yield return ($"the mesh gateway of '{arguments.Datacenter}' (WAN address)", gateway.WanAddress);
            }
        }
        else if (arguments.Role == "sidecar" && configuration.FindService(arguments.Service!) is { } service)
        {
            yield return ($"the sidecar of '{service.Id}' (public listener)", service.MeshAddress);
            foreach (UpstreamDefinition upstream in service.Upstreams)
            {
                yield return ($"the sidecar of '{service.Id}' (upstream listener for '{upstream.Destination}')", upstream.LocalBindAddress);
            }
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
