using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Consul.Client;

internal static partial class ConsulLog
{
    [LoggerMessage(MeshLogEvents.ConsulAgentUnreachable, LogLevel.Warning, "{Query}: the Consul agent at {Agent} is unreachable ({Error}); serving the last good value (age {Age}) and retrying until it is back")]
    public static partial void Unreachable(ILogger logger, string query, string agent, string error, TimeSpan? age);

    [LoggerMessage(MeshLogEvents.ConsulAgentTimedOut, LogLevel.Warning, "{Query}: the Consul agent at {Agent} did not answer in time; serving the last good value (age {Age}) and retrying until it answers")]
    public static partial void TimedOut(ILogger logger, string query, string agent, TimeSpan? age);

    [LoggerMessage(MeshLogEvents.ConsulAgentServerError, LogLevel.Warning, "{Query}: the Consul agent at {Agent} cannot serve ({Error}); serving the last good value (age {Age}) and retrying until it can")]
    public static partial void ServerError(ILogger logger, string query, string agent, string error, TimeSpan? age);

    [LoggerMessage(MeshLogEvents.ConsulPermissionDenied, LogLevel.Error, "{Query}: {Error} The query is stopped; fix the token's policy and restart.")]
    public static partial void PermissionDenied(ILogger logger, string query, string error);

    [LoggerMessage(MeshLogEvents.ConsulInvalidResponse, LogLevel.Warning, "{Query}: the Consul agent's answer cannot be read ({Error}); serving the last good value (age {Age})")]
    public static partial void InvalidResponse(ILogger logger, string query, string error, TimeSpan? age);

    [LoggerMessage(MeshLogEvents.ConsulNotFound, LogLevel.Warning, "{Query}: the Consul agent does not know it ({Error}); serving the last good value (age {Age}) and retrying")]
    public static partial void NotFound(ILogger logger, string query, string error, TimeSpan? age);

    [LoggerMessage(MeshLogEvents.ConsulRecovered, LogLevel.Information, "{Query}: the Consul agent at {Agent} answers again after {Failures} failed rounds")]
    public static partial void Recovered(ILogger logger, string query, string agent, int failures);

    [LoggerMessage(MeshLogEvents.ConsulValueChanged, LogLevel.Debug, "{Query}: changed at index {Index}")]
    public static partial void Changed(ILogger logger, string query, ulong? index);

    [LoggerMessage(MeshLogEvents.ConsulIndexReset, LogLevel.Information, "{Query}: the index went backwards from {Previous} to {Current} (agent restart or snapshot restore); reading again from 0")]
    public static partial void IndexReset(ILogger logger, string query, ulong previous, ulong current);

    [LoggerMessage(MeshLogEvents.ConsulEntrySkipped, LogLevel.Warning, "{Query}: skipped service instance {ServiceId} on node {Node}: {Reason}")]
    public static partial void EntrySkipped(ILogger logger, string query, string? serviceId, string? node, string reason);
}
