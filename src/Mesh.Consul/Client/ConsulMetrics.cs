using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mesh.Consul.Client;

/// <summary>
/// The <c>Mesh.Consul</c> meter: rounds of blocking queries by result (<c>mesh.consul.query.rounds</c>) and the age of each
/// source's cached value (<c>mesh.consul.cache.age</c>, seconds since the agent last answered it), which grows during an outage.
/// </summary>
internal static class ConsulMetrics
{
    public const string MeterName = "Mesh.Consul";
    public const string Rounds = "mesh.consul.query.rounds";
    public const string CacheAge = "mesh.consul.cache.age";
    public const string QueryTag = "mesh.consul.query";
    public const string ResultTag = "mesh.consul.result";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Counter<long> s_rounds = s_meter.CreateCounter<long>(Rounds, description: "Rounds of Consul blocking queries by result");
    private static readonly ConcurrentDictionary<IAgedValue, byte> s_values = new();

    static ConsulMetrics() =>
        s_meter.CreateObservableGauge(CacheAge, ObserveAges, unit: "s", description: "Age of each cached Consul value: time since the agent last answered its query");

    public static void Round(string kind, string result) =>
        s_rounds.Add(1, new TagList { { QueryTag, kind }, { ResultTag, result } });

    public static void Track(IAgedValue value) => s_values.TryAdd(value, 0);

    public static void Untrack(IAgedValue value) => s_values.TryRemove(value, out _);

    public static string ResultName(ConsulFailureClass failure) => failure switch
    {
        ConsulFailureClass.Unreachable => "unreachable",
        ConsulFailureClass.Timeout => "timeout",
        ConsulFailureClass.ServerError => "server_error",
        ConsulFailureClass.NotFound => "not_found",
        ConsulFailureClass.InvalidResponse => "invalid_response",
        _ => "permission_denied",
    };

    private static IEnumerable<Measurement<double>> ObserveAges()
    {
        foreach (IAgedValue value in s_values.Keys)
        {
            if (value.Age is { } age)
            {
                yield return new Measurement<double>(age.TotalSeconds, new KeyValuePair<string, object?>(QueryTag, value.Name));
            }
        }
    }
}
