using System.Reflection;
using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.EndToEnd.Tests.Diagnostics;

/// <summary>The event ID registry lists what the packages log, no more: an ID an operator filters on must be one Mesh writes.</summary>
public sealed class LogEventUsageTests
{
    private static readonly Assembly[] Packages =
    [
        typeof(MeshLogEvents).Assembly,
        typeof(Mesh.Sni.Gateway.MeshGateway).Assembly,
        typeof(Mesh.Tls.Sidecar.MeshSidecar).Assembly,
        typeof(Mesh.AspNetCore.IMeshPeerFeature).Assembly,
        typeof(Mesh.Consul.ConsulControlPlane).Assembly,
    ];

    [Test]
    public void Every_declared_event_id_is_used_by_some_logger_message()
    {
        var used = Packages
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .Where(a => a is not null)
            .Select(a => a!.EventId)
            .ToHashSet();
        var declared = typeof(MeshLogEvents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (Name: f.Name, Id: (int)f.GetRawConstantValue()!))
            .ToList();

        Assert.That(used, Is.Not.Empty);
        Assert.That(declared.Where(d => !used.Contains(d.Id)).Select(d => $"{d.Name} ({d.Id})"), Is.Empty);
    }
}
