using System.Formats.Asn1;

namespace Mesh.Tls.X509;

/// <summary>
/// Reads a SubjectAltName extension value (RFC 5280 §4.2.1.6) without allocating: counts the URI names (X509-SVID §2 needs
/// exactly one), remembers where the first is, and counts e-mail names (Consul's CSR rules forbid them).
/// </summary>
/// <remarks>.NET offers no API that lists URI SANs; <c>GetNameInfo(UrlName)</c> returns only the first.</remarks>
internal ref struct SubjectAltNames
{
    internal static readonly Asn1Tag Rfc822Name = new(TagClass.ContextSpecific, 1);
    internal static readonly Asn1Tag DnsName = new(TagClass.ContextSpecific, 2);
    internal static readonly Asn1Tag UniformResourceIdentifier = new(TagClass.ContextSpecific, 6);
    internal static readonly Asn1Tag IPAddress = new(TagClass.ContextSpecific, 7);

    public int UriCount;
    public int EmailCount;
    public int DnsCount;
    public int IPAddressCount;
    public ReadOnlySpan<byte> FirstUri;

    /// <summary>Parses <c>GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName</c>; false when the DER is malformed.</summary>
    public static bool TryRead(ReadOnlySpan<byte> extensionValue, out SubjectAltNames names)
    {
        names = default;
        try
        {
            AsnDecoder.ReadSequence(extensionValue, AsnEncodingRules.DER, out int offset, out int length, out int consumed);
            if (consumed != extensionValue.Length || length == 0)
            {
                return false;
            }

            ReadOnlySpan<byte> content = extensionValue.Slice(offset, length);
            while (!content.IsEmpty)
            {
                Asn1Tag tag = Asn1Tag.Decode(content, out _);
                AsnDecoder.ReadEncodedValue(content, AsnEncodingRules.DER, out int valueOffset, out int valueLength, out int used);
                if (tag.HasSameClassAndValue(UniformResourceIdentifier))
                {
                    if (tag.IsConstructed)
                    {
                        return false;
                    }

                    if (names.UriCount++ == 0)
                    {
                        names.FirstUri = content.Slice(valueOffset, valueLength);
                    }
                }
                else if (tag.HasSameClassAndValue(Rfc822Name))
                {
                    names.EmailCount++;
                }
                else if (tag.HasSameClassAndValue(DnsName))
                {
                    names.DnsCount++;
                }
                else if (tag.HasSameClassAndValue(IPAddress))
                {
                    names.IPAddressCount++;
                }

                content = content[used..];
            }

            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }
}
