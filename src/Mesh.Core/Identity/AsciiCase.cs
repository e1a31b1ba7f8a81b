namespace Mesh.Identity;

/// <summary>
/// ASCII-only case folding. Unicode case mapping is never used on identities: it turns the Kelvin sign (U+212A) into <c>k</c>,
/// so two different byte strings would name the same identity.
/// </summary>
internal static class AsciiCase
{
    internal static string ToLower(string value)
    {
        int first = value.AsSpan().IndexOfAnyInRange('A', 'Z');
        if (first < 0)
        {
            return value;
        }

        return string.Create(value.Length, (value, first), static (span, state) =>
        {
            state.value.AsSpan().CopyTo(span);
            for (int i = state.first; i < span.Length; i++)
            {
                char c = span[i];
                if ((uint)(c - 'A') <= 'Z' - 'A')
                {
                    span[i] = (char)(c | 0x20);
                }
            }
        });
    }
}
