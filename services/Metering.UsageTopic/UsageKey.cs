using System.Security.Cryptography;
using System.Text;

namespace Metering.UsageTopic;

/// <summary>
/// The idempotency key of a usage event, (tenant, id), as 16 bytes: the first half of SHA-256 over both. Receipts are
/// keyed by it, which keeps their index small and fast however long the ids are. SHA-256 and not a faster hash,
/// because an emitter that could make two of its ids collide could make usage vanish.
/// </summary>
public static class UsageKey
{
    public static Guid Of(string tenant, string id)
    {
        var length = Encoding.UTF8.GetByteCount(tenant) + 1 + Encoding.UTF8.GetByteCount(id);
        Span<byte> name = length <= 512 ? stackalloc byte[length] : new byte[length];
        var written = Encoding.UTF8.GetBytes(tenant, name);
        name[written++] = (byte)'\n'; // tenants cannot contain a newline, so (tenant, id) pairs never run together
        Encoding.UTF8.GetBytes(id, name[written..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(name, hash);
        return new Guid(hash[..16]);
    }
}
