using System.Buffers;
using System.Formats.Asn1;
using System.Security.Cryptography;
using Mesh.Tls.X509;

namespace Mesh.Tls.Authority;

/// <summary>
/// Encodes certificates (RFC 5280 §4.1) directly with <see cref="AsnWriter"/> and signs each once, at less cost than
/// <c>CertificateRequest.Create</c>; it is also the only way to write SPIFFE URIs byte for byte
/// (<c>SubjectAlternativeNameBuilder.AddUri</c> goes through <see cref="System.Uri"/>, which rewrites them).
/// </summary>
internal static class CertificateEncoder
{
    // DER of the extension values that never change.
    private static readonly byte[] LeafBasicConstraints = [0x30, 0x00];
    private static readonly byte[] CaBasicConstraints = [0x30, 0x03, 0x01, 0x01, 0xFF];

    // digitalSignature(0) | keyEncipherment(2) | dataEncipherment(3) | keyAgreement(4): 1011 1000, three unused bits.
    private static readonly byte[] LeafKeyUsage = [0x03, 0x02, 0x03, 0xB8];

    // digitalSignature(0) | keyCertSign(5) | cRLSign(6): 1000 0110, one unused bit.
    private static readonly byte[] CaKeyUsage = [0x03, 0x02, 0x01, 0x86];

    private static readonly byte[] ServerAndClientAuth = EncodeEku();

    [ThreadStatic]
    private static AsnWriter? t_writer;

    /// <summary>Encodes, signs and returns the DER of a certificate.</summary>
    public static byte[] Issue(CaSigningKey signer, ReadOnlySpan<byte> issuerName, ref CertificateProfile profile)
    {
        AsnWriter writer = t_writer ??= new AsnWriter(AsnEncodingRules.DER, initialCapacity: 2048);
        writer.Reset();
        WriteTbs(writer, signer, issuerName, ref profile);

        byte[] rented = ArrayPool<byte>.Shared.Rent(writer.GetEncodedLength() + signer.MaxSignatureLength);
        try
        {
            int tbsLength = writer.Encode(rented);
            Span<byte> signature = rented.AsSpan(tbsLength);
            if (!signer.TrySign(rented.AsSpan(0, tbsLength), signature, out int signatureLength))
            {
                throw new CryptographicException("The CA signature did not fit its precomputed maximum length.");
            }

            writer.Reset();
            using (writer.PushSequence())
            {
                writer.WriteEncodedValue(rented.AsSpan(0, tbsLength));
                writer.WriteEncodedValue(signer.SignatureAlgorithm);
                writer.WriteBitString(signature[..signatureLength]);
            }

            return writer.Encode();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
            writer.Reset();
        }
    }

    private static void WriteTbs(AsnWriter writer, CaSigningKey signer, ReadOnlySpan<byte> issuerName, ref CertificateProfile profile)
    {
        Span<byte> serial = stackalloc byte[16];
        RandomNumberGenerator.Fill(serial);

        // A positive, minimal INTEGER (RFC 5280 §4.1.2.2): clear the sign bit and make the first byte non-zero.
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);

        Span<byte> subjectKeyId = stackalloc byte[32];
        if (profile.SubjectKeyId.IsEmpty)
        {
            SHA256.HashData(profile.SubjectPublicKeyInfo, subjectKeyId);
        }
        else
        {
            subjectKeyId = subjectKeyId[..profile.SubjectKeyId.Length];
            profile.SubjectKeyId.CopyTo(subjectKeyId);
        }

        using (writer.PushSequence())
        {
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                writer.WriteInteger(2);
            }

            writer.WriteIntegerUnsigned(serial);
            writer.WriteEncodedValue(signer.SignatureAlgorithm);
            writer.WriteEncodedValue(issuerName);
            using (writer.PushSequence())
            {
                WriteTime(writer, profile.NotBefore);
                WriteTime(writer, profile.NotAfter);
            }

            if (profile.Subject.IsEmpty)
            {
                using (writer.PushSequence())
                {
                }
            }
            else
            {
                writer.WriteEncodedValue(profile.Subject);
            }

            writer.WriteEncodedValue(profile.SubjectPublicKeyInfo);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 3)))
            using (writer.PushSequence())
            {
                WriteExtension(writer, Oids.BasicConstraints, critical: true, profile.IsCa ? CaBasicConstraints : LeafBasicConstraints);
                WriteExtension(writer, Oids.KeyUsage, critical: true, profile.IsCa ? CaKeyUsage : LeafKeyUsage);
                if (!profile.IsCa)
                {
                    WriteExtension(writer, Oids.ExtendedKeyUsage, critical: false, ServerAndClientAuth);
                }

                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(Oids.SubjectKeyIdentifier);
                    using (writer.PushOctetString())
                    {
                        writer.WriteOctetString(subjectKeyId);
                    }
                }

                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(Oids.AuthorityKeyIdentifier);
                    using (writer.PushOctetString())
                    using (writer.PushSequence())
                    {
                        writer.WriteOctetString(signer.SubjectKeyId, new Asn1Tag(TagClass.ContextSpecific, 0));
                    }
                }

                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(Oids.SubjectAltName);

                    // X509-SVID §3.1: with an empty subject the SAN extension must be critical.
                    if (profile.Subject.IsEmpty)
                    {
                        writer.WriteBoolean(true);
                    }

                    using (writer.PushOctetString())
                    {
                        WriteGeneralNames(writer, ref profile);
                    }
                }
            }
        }
    }

    private static void WriteGeneralNames(AsnWriter writer, ref CertificateProfile profile)
    {
        using (writer.PushSequence())
        {
            writer.WriteCharacterString(UniversalTagNumber.IA5String, profile.Uri.AsSpan(), SubjectAltNames.UniformResourceIdentifier);
            if (profile.DnsNames is { } dns)
            {
                for (int i = 0; i < dns.Count; i++)
                {
                    writer.WriteCharacterString(UniversalTagNumber.IA5String, dns[i], SubjectAltNames.DnsName);
                }
            }

            if (profile.IPAddresses is { } ips)
            {
                Span<byte> address = stackalloc byte[16];
                for (int i = 0; i < ips.Count; i++)
                {
                    if (!ips[i].TryWriteBytes(address, out int written))
                    {
                        throw new ArgumentException("An IP address SAN could not be encoded.");
                    }

                    writer.WriteOctetString(address[..written], SubjectAltNames.IPAddress);
                }
            }
        }
    }

    private static void WriteExtension(AsnWriter writer, string oid, bool critical, byte[] value)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            if (critical)
            {
                writer.WriteBoolean(true);
            }

            writer.WriteOctetString(value);
        }
    }

    // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds either way.
    private static void WriteTime(AsnWriter writer, DateTimeOffset time)
    {
        time = new DateTimeOffset(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        if (time.Year < 2050)
        {
            writer.WriteUtcTime(time);
        }
        else
        {
            writer.WriteGeneralizedTime(time, omitFractionalSeconds: true);
        }
    }

    private static byte[] EncodeEku()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(Oids.ServerAuth);
            writer.WriteObjectIdentifier(Oids.ClientAuth);
        }

        return writer.Encode();
    }

    /// <summary>Encodes a subject Name holding one common name.</summary>
    public static byte[] EncodeCommonName(string commonName)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSetOf())
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier("2.5.4.3");
            writer.WriteCharacterString(UniversalTagNumber.UTF8String, commonName);
        }

        return writer.Encode();
    }
}
