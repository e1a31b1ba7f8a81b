using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mesh.Diagnostics;
using Mesh.Tls.Authority;
using Mesh.Tls.Validation;

namespace Mesh.Tls.Diagnostics;

/// <summary>
/// Every instrument of the <see cref="MeshMetrics.TlsMeter"/> meter: handshakes and their duration, peer validations, leaf
/// renewals and CA signings. Built from the host's <see cref="IMeterFactory"/> when dependency injection provides one (so the
/// host's meter configuration and disposal apply); otherwise <see cref="Shared"/>, over one static meter. Tag values are
/// snake_case constants, so recording allocates nothing.
/// </summary>
internal sealed class TlsMetrics
{
    public const string Client = "client";
    public const string Server = "server";

    // The validation statuses as tag values, computed once: NoCertificate becomes no_certificate.
    private static readonly string[] s_statusNames = Array.ConvertAll(Enum.GetNames<SvidValidationStatus>(), ToSnakeCase);

    private readonly Counter<long> _handshakes;
    private readonly Histogram<double> _handshakeDuration;
    private readonly Counter<long> _validations;
    private readonly Counter<long> _renewals;
    private readonly Counter<long> _signings;

    private TlsMetrics(Meter meter)
    {
        _handshakes = meter.CreateCounter<long>(MeshMetrics.TlsHandshakes, unit: "{handshake}", description: "mTLS handshakes, by side and result.");
        _handshakeDuration = meter.CreateHistogram<double>(MeshMetrics.TlsHandshakeDuration, unit: "s", description: "mTLS handshake duration.");
        _validations = meter.CreateCounter<long>(MeshMetrics.PeerValidations, unit: "{validation}", description: "Peer certificate validations, by result.");
        _renewals = meter.CreateCounter<long>(MeshMetrics.CertificateRenewals, unit: "{renewal}", description: "Leaf certificate renewals, by result.");
        _signings = meter.CreateCounter<long>(MeshMetrics.CaSignings, unit: "{certificate}", description: "Certificates signed or refused by the CA, by result.");
    }

    /// <summary>The instruments on the process-wide static meter, for types built without dependency injection.</summary>
    public static TlsMetrics Shared { get; } = new(new Meter(MeshMetrics.TlsMeter));

    /// <summary>The instruments on the factory's meter, or <see cref="Shared"/> without a factory.</summary>
    public static TlsMetrics For(IMeterFactory? meterFactory) =>
        meterFactory is null ? Shared : new TlsMetrics(meterFactory.Create(MeshMetrics.TlsMeter));

    public void Handshake(string side, bool succeeded, long startTimestamp)
    {
        if (!_handshakes.Enabled && !_handshakeDuration.Enabled)
        {
            return;
        }

        var tags = new TagList { { MeshMetrics.SideTag, side }, { MeshMetrics.ResultTag, succeeded ? "ok" : "failed" } };
        _handshakes.Add(1, tags);
        _handshakeDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
    }

    public void PeerValidated(SvidValidationStatus status) =>
        _validations.Add(1, new KeyValuePair<string, object?>(MeshMetrics.ResultTag, status == SvidValidationStatus.Valid ? "ok" : StatusName(status)));

    public const string RenewalOk = "ok";
    public const string RenewalFailed = "failed";
    public const string RenewalRefused = "refused";

    /// <summary>Counts a renewal by its result: <see cref="RenewalOk"/>, <see cref="RenewalFailed"/> (retried) or <see cref="RenewalRefused"/> (permanent).</summary>
    public void Renewed(string result) => _renewals.Add(1, new KeyValuePair<string, object?>(MeshMetrics.ResultTag, result));

    public void Signed() => _signings.Add(1, new KeyValuePair<string, object?>(MeshMetrics.ResultTag, "ok"));

    public void SigningRefused(CertificateSigningError error) =>
        _signings.Add(1, new KeyValuePair<string, object?>(MeshMetrics.ResultTag, error == CertificateSigningError.RateLimited ? "rate_limited" : "rejected"));

    internal static string StatusName(SvidValidationStatus status) =>
        (uint)status < (uint)s_statusNames.Length ? s_statusNames[(int)status] : "unknown";

    /// <summary>An enum member's name as an OpenTelemetry-style tag value: <c>IdentityMismatch</c> becomes <c>identity_mismatch</c>.</summary>
    internal static string ToSnakeCase(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsAsciiLetterUpper(c))
            {
                if (i > 0)
                {
                    builder.Append('_');
                }

                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
