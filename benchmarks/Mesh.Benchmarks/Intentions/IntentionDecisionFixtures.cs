using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Benchmarks.Intentions;

internal static class IntentionDecisionFixtures
{
    public static readonly ServiceName Web = new("web");
    public static readonly ServiceName Api = new("api");

    /// <summary>An L7 intention whose third permission matches the request: a deny on /admin, a POST-only rule, then the allow.</summary>
    public static IntentionSet L7Set(bool regex) => new(
    [
        new Intention(new IntentionSource("web"), new IntentionDestination("api"),
        [
            new IntentionPermission(IntentionAction.Deny, new IntentionHttpMatch { PathPrefix = "/admin" }),
            new IntentionPermission(IntentionAction.Allow, new IntentionHttpMatch { PathPrefix = "/v1/orders", Methods = ["POST"] }),
            regex
                ? new IntentionPermission(IntentionAction.Allow, new IntentionHttpMatch { PathRegex = "/v[0-9]+/items/[0-9]+", Methods = ["GET", "HEAD"] })
                : new IntentionPermission(IntentionAction.Allow, new IntentionHttpMatch
                {
                    PathPrefix = "/v1/items",
                    Methods = ["GET", "HEAD"],
                    Headers = [new IntentionHeaderMatch { Name = "x-tenant", Present = true }],
                }),
        ]),
        new Intention(new IntentionSource("*"), new IntentionDestination("api"), IntentionAction.Deny),
    ]);

    public static IntentionHttpRequest Request() => new("GET", "/v1/items/42?expand=true",
    [
        KeyValuePair.Create("host", "api"),
        KeyValuePair.Create("x-tenant", "blue"),
        KeyValuePair.Create("accept", "application/json"),
    ]);
}
