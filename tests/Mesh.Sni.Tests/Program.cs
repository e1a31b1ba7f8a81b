using Mesh.Sni.Tests.Gateway;

namespace Mesh.Sni.Tests;

/// <summary>
/// The test assembly is also the program <c>ChildProcess</c> starts (<c>dotnet Mesh.Sni.Tests.dll SCENARIO ARGS</c>): a test
/// that must not run inside the test host runs its subject here.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args) => args switch
    {
        [GatewayOutOfDescriptorsChild.Scenario, string engine] => await GatewayOutOfDescriptorsChild.RunAsync(socketEngine: engine == "sockets"),
        _ => 2,
    };
}
