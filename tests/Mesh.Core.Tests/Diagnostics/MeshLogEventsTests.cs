using System.Reflection;
using Mesh.Diagnostics;

namespace Mesh.Core.Tests.Diagnostics;

public sealed class MeshLogEventsTests
{
    [Test]
    public void Every_log_event_id_is_unique()
    {
        var ids = typeof(MeshLogEvents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => ((int)f.GetRawConstantValue()!, f.Name))
            .ToList();

        Assert.That(ids, Is.Not.Empty);
        var duplicates = ids.GroupBy(i => i.Item1).Where(g => g.Count() > 1).Select(g => string.Join(", ", g.Select(i => i.Name)));
        Assert.That(duplicates, Is.Empty);
    }

    [Test]
    public void Every_instrument_name_is_unique_and_lower_case()
    {
        var names = typeof(MeshMetrics).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && !f.Name.EndsWith("Meter", StringComparison.Ordinal) && !f.Name.EndsWith("Tag", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToList();

        Assert.That(names, Is.Unique);
        Assert.That(names, Has.All.Matches<string>(n => n.StartsWith("mesh.", StringComparison.Ordinal) && !n.Any(char.IsAsciiLetterUpper)));
    }
}
