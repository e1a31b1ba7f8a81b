using Mesh.Intentions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Mesh.AspNetCore;

/// <summary>What L7 intentions read of an ASP.NET Core request: the method, the target as received, and the header field lines.</summary>
internal readonly struct HttpContextIntentionRequest(HttpContext context) : IIntentionHttpRequest
{
    public ReadOnlySpan<char> Method => context.Request.Method;

    // The target as received (not normalised): the evaluator normalises it as Envoy does before matching.
    public ReadOnlySpan<char> Target => context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw
        ? raw
        : string.Concat(context.Request.PathBase.Value, context.Request.Path.Value, context.Request.QueryString.Value);

    public int GetHeaderCount(string name) => context.Request.Headers.TryGetValue(name, out var values) ? values.Count : 0;

    public ReadOnlySpan<char> GetHeaderValue(string name, int index) => context.Request.Headers[name][index];
}
