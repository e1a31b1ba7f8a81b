using Mesh.Consul.Client;
using Microsoft.Extensions.Options;

namespace Mesh.Consul;

/// <summary>
/// The rules of <see cref="ConsulOptions"/>: <see cref="ConsulAgentClient"/>'s constructor runs them, and
/// <see cref="ConsulMeshOptionsExtensions.UseConsul"/> when the host starts. Each message names the option.
/// </summary>
internal sealed class ConsulOptionsValidator : IValidateOptions<ConsulOptions>
{
    internal static readonly ConsulOptionsValidator Instance = new();

    // Consul caps a blocking query's wait at 10 minutes (api/README "Blocking Queries").
    private static readonly TimeSpan MaxWaitTime = TimeSpan.FromMinutes(10);

    public ValidateOptionsResult Validate(string? name, ConsulOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        try
        {
            _ = ConsulAgentAddress.Parse(options.Address);
        }
        catch (ArgumentException ex)
        {
            failures.Add($"ConsulOptions.Address: {ex.Message.Split(" (Parameter", 2)[0]}");
        }

        if (options.WaitTime <= TimeSpan.Zero || options.WaitTime > MaxWaitTime)
        {
            failures.Add($"ConsulOptions.WaitTime is {options.WaitTime}; Consul accepts a wait above zero and at most 10 minutes.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add($"ConsulOptions.RequestTimeout must be above zero (it is {options.RequestTimeout}).");
        }

        if (options.MinimumRoundInterval < TimeSpan.Zero)
        {
            failures.Add($"ConsulOptions.MinimumRoundInterval must be zero or more (it is {options.MinimumRoundInterval}).");
        }

        if (options.MinimumRetryDelay <= TimeSpan.Zero || options.MaximumRetryDelay < options.MinimumRetryDelay)
        {
            failures.Add($"ConsulOptions.MinimumRetryDelay must be above zero and at most MaximumRetryDelay (they are {options.MinimumRetryDelay} and {options.MaximumRetryDelay}).");
        }

        if (options.ClientCertificateFile is not null && options.ClientKeyFile is null)
        {
            failures.Add("ConsulOptions.ClientCertificateFile (CONSUL_CLIENT_CERT) is set without ClientKeyFile (CONSUL_CLIENT_KEY): set the certificate's key too.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
