using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Cryptography;

namespace Mesh.Tls.Authority;

/// <summary>
/// Signs digests with a CA's EC key through OpenSSL 3 keeping initialised <c>EVP_PKEY_CTX</c>s for reuse. .NET creates and
/// initialises one per signature, which on OpenSSL 3 (provider fetch) costs more than the P-256 signature itself; reusing them
/// brings leaf issuing close to <c>openssl speed</c>. Linux only; anything unexpected disables it and the managed path is used.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class OpenSslEcdsaSigner : IDisposable
{
    private const string LibCrypto = "libcrypto.so.3";

    private readonly SafeEvpPKeyHandle _key;
    private readonly ConcurrentBag<IntPtr> _contexts = [];
    private int _disposed;

    private OpenSslEcdsaSigner(SafeEvpPKeyHandle key) => _key = key;

    /// <summary>Creates a signer for an OpenSSL-backed key, or null when this platform or key cannot use one.</summary>
    public static OpenSslEcdsaSigner? TryCreate(ECDsaOpenSsl key)
    {
        try
        {
            var signer = new OpenSslEcdsaSigner(key.DuplicateKeyHandle());

            // Prove the whole path once: sign and verify with .NET.
            Span<byte> hash = stackalloc byte[32];
            Span<byte> signature = stackalloc byte[key.GetMaxSignatureSize(DSASignatureFormat.Rfc3279DerSequence)];
            if (signer.TrySignHash(hash, signature, out int written)
                && key.VerifyHash(hash, signature[..written], DSASignatureFormat.Rfc3279DerSequence))
            {
                return signer;
            }

            signer.Dispose();
            return null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Signs a digest (ECDSA, DER signature, RFC 3279 §2.2.3).</summary>
    public unsafe bool TrySignHash(ReadOnlySpan<byte> hash, Span<byte> destination, out int written)
    {
        written = 0;
        if (!_contexts.TryTake(out IntPtr context))
        {
            bool added = false;
            _key.DangerousAddRef(ref added);
            try
            {
                context = EVP_PKEY_CTX_new(_key.DangerousGetHandle(), IntPtr.Zero);
            }
            finally
            {
                if (added)
                {
                    _key.DangerousRelease();
                }
            }

            if (context == IntPtr.Zero || EVP_PKEY_sign_init(context) != 1)
            {
                EVP_PKEY_CTX_free(context);
                return false;
            }
        }

        try
        {
            nuint length = (nuint)destination.Length;
            fixed (byte* sig = destination)
            fixed (byte* tbs = hash)
            {
                if (EVP_PKEY_sign(context, sig, ref length, tbs, (nuint)hash.Length) != 1)
                {
                    return false;
                }
            }

            written = (int)length;
            return true;
        }
        finally
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                _contexts.Add(context);
            }
            else
            {
                EVP_PKEY_CTX_free(context);
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        while (_contexts.TryTake(out IntPtr context))
        {
            EVP_PKEY_CTX_free(context);
        }

        _key.Dispose();
    }

    [LibraryImport(LibCrypto)]
    private static partial IntPtr EVP_PKEY_CTX_new(IntPtr key, IntPtr engine);

    [LibraryImport(LibCrypto)]
    private static partial int EVP_PKEY_sign_init(IntPtr context);

    [LibraryImport(LibCrypto)]
    private static unsafe partial int EVP_PKEY_sign(IntPtr context, byte* signature, ref nuint signatureLength, byte* tbs, nuint tbsLength);

    [LibraryImport(LibCrypto)]
    private static partial void EVP_PKEY_CTX_free(IntPtr context);
}
