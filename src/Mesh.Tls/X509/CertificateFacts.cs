using System.Formats.Asn1;

namespace Mesh.Tls.X509;

/// <summary>
/// What the X509-SVID rules need from a certificate, read straight from its DER (RFC 5280 §4.1) so that every URI SAN is
/// counted and nothing is normalised on the way.
/// </summary>
internal ref struct CertificateFacts
{
    public bool SubjectEmpty;
    public string SignatureAlgorithm;
    public ReadOnlySpan<byte> SubjectPublicKeyInfo;
    public bool HasBasicConstraints;
    public bool IsCa;
    public bool HasKeyUsage;
    public int KeyUsageBits; // bit n = KeyUsage bit n of RFC 5280 §4.2.1.3 (0 = digitalSignature, 5 = keyCertSign, 6 = cRLSign).
    public bool HasExtendedKeyUsage;
    public bool ServerAuth;
    public bool ClientAuth;
    public bool HasSubjectAltName;
    public bool SubjectAltNameCritical;
    public SubjectAltNames AltNames;

    public const int DigitalSignature = 1 << 0;
    public const int KeyCertSign = 1 << 5;
    public const int CrlSign = 1 << 6;

    /// <summary>Reads the facts; false when the DER is malformed or an extension appears twice (RFC 5280 §4.2).</summary>
    public static bool TryRead(ReadOnlySpan<byte> der, out CertificateFacts facts)
    {
        facts = default;
        facts.SignatureAlgorithm = string.Empty;
        try
        {
            ReadOnlySpan<byte> certificate = Contents(der, Asn1Tag.Sequence, out _);
            ReadOnlySpan<byte> tbs = Contents(certificate, Asn1Tag.Sequence, out int used);
            ReadOnlySpan<byte> algorithm = Contents(certificate[used..], Asn1Tag.Sequence, out _);
            facts.SignatureAlgorithm = AsnDecoder.ReadObjectIdentifier(algorithm, AsnEncodingRules.DER, out _);

            var explicitVersion = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            if (Asn1Tag.Decode(tbs, out _) == explicitVersion)
            {
                tbs = tbs[Skip(tbs)..];
            }

            tbs = tbs[Skip(tbs)..]; // serialNumber
            tbs = tbs[Skip(tbs)..]; // signature
            tbs = tbs[Skip(tbs)..]; // issuer
            tbs = tbs[Skip(tbs)..]; // validity
            Contents(tbs, Asn1Tag.Sequence, out used);
            facts.SubjectEmpty = used == 2;
            tbs = tbs[used..];
            int spkiLength = Skip(tbs);
            facts.SubjectPublicKeyInfo = tbs[..spkiLength];
            tbs = tbs[spkiLength..];

            var extensionsTag = new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true);
            while (!tbs.IsEmpty)
            {
                Asn1Tag tag = Asn1Tag.Decode(tbs, out _);
                if (tag == extensionsTag)
                {
                    ReadOnlySpan<byte> wrapper = Contents(tbs, extensionsTag, out _);
                    if (!ReadExtensions(Contents(wrapper, Asn1Tag.Sequence, out _), ref facts))
                    {
                        return false;
                    }
                }

                tbs = tbs[Skip(tbs)..];
            }

            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static bool ReadExtensions(ReadOnlySpan<byte> extensions, ref CertificateFacts facts)
    {
        Span<byte> bits = stackalloc byte[4];
        while (!extensions.IsEmpty)
        {
            ReadOnlySpan<byte> extension = Contents(extensions, Asn1Tag.Sequence, out int used);
            extensions = extensions[used..];
            string oid = AsnDecoder.ReadObjectIdentifier(extension, AsnEncodingRules.DER, out int consumed);
            extension = extension[consumed..];
            bool critical = false;
            if (Asn1Tag.Decode(extension, out _).HasSameClassAndValue(Asn1Tag.Boolean))
            {
                critical = AsnDecoder.ReadBoolean(extension, AsnEncodingRules.DER, out consumed);
                extension = extension[consumed..];
            }

            ReadOnlySpan<byte> value = Contents(extension, Asn1Tag.PrimitiveOctetString, out _);
            switch (oid)
            {
                case Oids.BasicConstraints:
                    if (facts.HasBasicConstraints)
                    {
                        return false;
                    }

                    facts.HasBasicConstraints = true;
                    ReadOnlySpan<byte> constraints = Contents(value, Asn1Tag.Sequence, out _);
                    facts.IsCa = !constraints.IsEmpty && Asn1Tag.Decode(constraints, out _).HasSameClassAndValue(Asn1Tag.Boolean)
                        && AsnDecoder.ReadBoolean(constraints, AsnEncodingRules.DER, out _);
                    break;

                case Oids.KeyUsage:
                    if (facts.HasKeyUsage)
                    {
                        return false;
                    }

                    facts.HasKeyUsage = true;
                    if (!AsnDecoder.TryReadBitString(value, bits, AsnEncodingRules.DER, out _, out _, out int written))
                    {
                        return false;
                    }

                    // Bit 0 is the most significant bit of the first byte (X.690 §8.6).
                    for (int i = 0; i < written * 8 && i < 16; i++)
                    {
                        if ((bits[i / 8] & (0x80 >> (i % 8))) != 0)
                        {
                            facts.KeyUsageBits |= 1 << i;
                        }
                    }

                    break;

                case Oids.ExtendedKeyUsage:
                    if (facts.HasExtendedKeyUsage)
                    {
                        return false;
                    }

                    facts.HasExtendedKeyUsage = true;
                    ReadOnlySpan<byte> purposes = Contents(value, Asn1Tag.Sequence, out _);
                    while (!purposes.IsEmpty)
                    {
                        string purpose = AsnDecoder.ReadObjectIdentifier(purposes, AsnEncodingRules.DER, out consumed);
                        purposes = purposes[consumed..];
                        facts.ServerAuth |= purpose == Oids.ServerAuth;
                        facts.ClientAuth |= purpose == Oids.ClientAuth;
                    }

                    break;

                case Oids.SubjectAltName:
                    if (facts.HasSubjectAltName || !SubjectAltNames.TryRead(value, out facts.AltNames))
                    {
                        return false;
                    }

                    facts.HasSubjectAltName = true;
                    facts.SubjectAltNameCritical = critical;
                    break;
            }
        }

        return true;
    }

    private static ReadOnlySpan<byte> Contents(ReadOnlySpan<byte> source, Asn1Tag expected, out int consumed)
    {
        AsnDecoder.ReadEncodedValue(source, AsnEncodingRules.DER, out int offset, out int length, out consumed);
        Asn1Tag tag = Asn1Tag.Decode(source, out _);
        if (tag != expected)
        {
            throw new AsnContentException($"Expected {expected}, found {tag}.");
        }

        return source.Slice(offset, length);
    }

    private static int Skip(ReadOnlySpan<byte> source)
    {
        AsnDecoder.ReadEncodedValue(source, AsnEncodingRules.DER, out _, out _, out int consumed);
        return consumed;
    }
}
