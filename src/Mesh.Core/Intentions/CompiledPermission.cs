using System.Text.RegularExpressions;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>A checked L7 permission, ready to run without allocating.</summary>
internal sealed class CompiledPermission
{
    // Consul accepts exactly Go's net/http method constants.
    private static readonly string[] ValidMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"];

    private readonly PathMatchKind _pathKind;
    private readonly string _path;
    private readonly Regex? _pathRegex;
    private readonly string[] _methods;
    private readonly CompiledHeaderMatch[] _headers;

    private CompiledPermission(IntentionAction action, PathMatchKind pathKind, string path, Regex? pathRegex, string[] methods, CompiledHeaderMatch[] headers)
    {
        Action = action;
        _pathKind = pathKind;
        _path = path;
        _pathRegex = pathRegex;
        _methods = methods;
        _headers = headers;
    }

    private enum PathMatchKind
    {
        Any,
        Exact,
        Prefix,
        Regex,
    }

    public IntentionAction Action { get; }

    /// <summary>Checks a permission against consul-semantics §5 and compiles it; returns the upper-cased methods too.</summary>
    public static CompiledPermission Compile(IntentionPermission permission, string field, IntentionValidationContext context, out string[] methods)
    {
        if (permission.Action is not (IntentionAction.Allow or IntentionAction.Deny))
        {
            throw context.Fail(IntentionValidationRule.InvalidPermissionAction, field + ".Action", "must be 'allow' or 'deny'");
        }

        IntentionHttpMatch http = permission.Http;
        string httpField = field + ".HTTP";
        if (http.PathExact is null && http.PathPrefix is null && http.PathRegex is null && http.Methods.Count == 0 && http.Headers.Count == 0)
        {
            throw context.Fail(IntentionValidationRule.EmptyHttpPermission, httpField, "a permission needs a non-empty HTTP block");
        }

        int pathMatchers = (http.PathExact is null ? 0 : 1) + (http.PathPrefix is null ? 0 : 1) + (http.PathRegex is null ? 0 : 1);
        if (pathMatchers > 1)
        {
            throw context.Fail(IntentionValidationRule.MultiplePathMatchers, httpField, "at most one of PathExact, PathPrefix or PathRegex may be set");
        }

        PathMatchKind kind = PathMatchKind.Any;
        string path = string.Empty;
        Regex? regex = null;
        if (http.PathExact is not null)
        {
            CheckSlash(http.PathExact, httpField + ".PathExact", context);
            (kind, path) = (PathMatchKind.Exact, http.PathExact);
        }
        else if (http.PathPrefix is not null)
        {
            CheckSlash(http.PathPrefix, httpField + ".PathPrefix", context);
            (kind, path) = (PathMatchKind.Prefix, http.PathPrefix);
        }
        else if (http.PathRegex is not null)
        {
            (kind, path, regex) = (PathMatchKind.Regex, http.PathRegex, Re2Pattern.Compile(http.PathRegex, httpField + ".PathRegex", context));
        }

        methods = new string[http.Methods.Count];
        for (int i = 0; i < methods.Length; i++)
        {
            string method = (http.Methods[i] ?? string.Empty).ToUpperInvariant();
            if (Array.IndexOf(ValidMethods, method) < 0)
            {
                throw context.Fail(IntentionValidationRule.InvalidMethod, $"{httpField}.Methods[{i}]", $"{ErrorQuote.Of(http.Methods[i])} is not a valid HTTP method");
            }

            if (Array.IndexOf(methods, method, 0, i) >= 0)
            {
                throw context.Fail(IntentionValidationRule.DuplicateMethod, $"{httpField}.Methods[{i}]", $"{ErrorQuote.Of(method)} is listed more than once");
            }

            methods[i] = method;
        }

        var headers = new CompiledHeaderMatch[http.Headers.Count];
        for (int i = 0; i < headers.Length; i++)
        {
            headers[i] = CompiledHeaderMatch.Compile(http.Headers[i], $"{httpField}.Header[{i}]", context);
        }

        return new CompiledPermission(permission.Action, kind, path, regex, methods, headers);
    }

    private static void CheckSlash(string path, string field, IntentionValidationContext context)
    {
        if (!path.StartsWith('/'))
        {
            throw context.Fail(IntentionValidationRule.PathMustStartWithSlash, field, $"{ErrorQuote.Of(path)} does not start with '/'");
        }
    }

    /// <summary>Whether every criterion matches; <paramref name="path"/> is already normalised and without its query.</summary>
    public bool Matches<TRequest>(ref TRequest request, scoped ReadOnlySpan<char> path)
        where TRequest : IIntentionHttpRequest, allows ref struct
    {
        switch (_pathKind)
        {
            case PathMatchKind.Exact when !path.SequenceEqual(_path):
            case PathMatchKind.Prefix when !path.StartsWith(_path, StringComparison.Ordinal):
            case PathMatchKind.Regex when !_pathRegex!.IsMatch(path):
                return false;
        }

        if (_methods.Length > 0)
        {
            ReadOnlySpan<char> method = request.Method;
            bool found = false;
            foreach (string candidate in _methods)
            {
                if (method.SequenceEqual(candidate))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        foreach (CompiledHeaderMatch header in _headers)
        {
            if (!header.Matches(ref request))
            {
                return false;
            }
        }

        return true;
    }
}
