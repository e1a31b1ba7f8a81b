using Mesh.ControlPlane;
using Mesh.Intentions;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.InProcess;

/// <summary>The intentions of another source with this service's own default policy (<see cref="MeshOptions.DefaultIntentionPolicy"/>).</summary>
internal sealed class DefaultPolicyIntentionSource(IIntentionSource inner, IntentionAction defaultAction) : IIntentionSource
{
    private Snapshot? _cache;

    public IntentionSet Current
    {
        get
        {
            IntentionSet from = inner.Current;
            Snapshot? cached = Volatile.Read(ref _cache);
            if (cached is not null && ReferenceEquals(cached.From, from))
            {
                return cached.With;
            }

            // Rebuilt once per snapshot of the inner source: decisions read the cached set.
            var with = from.DefaultAction == defaultAction ? from : new IntentionSet(from.Intentions, defaultAction);
            Volatile.Write(ref _cache, new Snapshot(from, with));
            return with;
        }
    }

    public IChangeToken GetChangeToken() => inner.GetChangeToken();

    private sealed record Snapshot(IntentionSet From, IntentionSet With);
}
