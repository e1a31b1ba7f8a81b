using System.Net;
using System.Net.Sockets;

namespace Mesh.Host;

/// <summary>Finds which of a role's listen addresses another process holds, to name it when a bind fails.</summary>
internal static class ListenAddresses
{
    public static bool IsAddressInUse(Exception exception) => exception switch
    {
        SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => true,
        _ when exception.InnerException is { } inner => IsAddressInUse(inner),
        _ => false,
    };

    /// <summary>
    /// The first of <paramref name="candidates"/> that cannot be bound now, or null. Called after the role released its own
    /// listeners, so an address it held itself does not count as taken.
    /// </summary>
    public static (string What, IPEndPoint Address)? FindTaken(IEnumerable<(string What, IPEndPoint Address)> candidates)
    {
        foreach ((string what, IPEndPoint address) in candidates)
        {
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Bind(address);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse)
            {
                return (what, address);
            }
            catch (SocketException)
            {
                // Another failure (address not on this machine…) is not the one being explained.
            }
        }

        return null;
    }
}
