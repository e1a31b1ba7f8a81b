using Mesh.Intentions;
using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// Supplies the current intention snapshot and says when it changes. Read <see cref="Current"/> once per decision: a
/// replaced snapshot keeps deciding correctly for whoever still holds it.
/// </summary>
public interface IIntentionSource
{
    /// <summary>The current snapshot; <see cref="IntentionSet.Empty"/> (deny everything) before any is known.</summary>
    IntentionSet Current { get; }

    /// <summary>A token that fires when <see cref="Current"/> changes.</summary>
    IChangeToken GetChangeToken();
}
