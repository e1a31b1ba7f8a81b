using Mesh.Core.Tests.Splicing;

namespace Mesh.Core.Tests;

/// <summary>
/// The test assembly is also the program <c>ChildProcess</c> starts (<c>dotnet Mesh.Core.Tests.dll SCENARIO</c>): a test that
/// must not run inside the test host runs its subject here.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args) => args switch
    {
        [AcceptLoopOutOfDescriptorsChild.Scenario] => await AcceptLoopOutOfDescriptorsChild.RunAsync(),
        _ => 2,
    };
}
