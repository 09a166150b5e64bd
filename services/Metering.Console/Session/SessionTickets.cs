using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;

namespace Metering.Console.Session;

/// <summary>
/// The cookie's session store: the ticket (role, team and the bearer token) stays in the host, encrypted with Data
/// Protection, and the browser's cookie holds only an encrypted random key to it. Signing out removes the ticket, so a
/// copy of the old cookie no longer works.
/// </summary>
public sealed class SessionTickets(IDistributedCache cache, IDataProtectionProvider protection, TimeProvider time) : ITicketStore
{
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(8);
    private readonly IDataProtector _protector = protection.CreateProtector("Metering.Console.SessionTickets");

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        await RenewAsync(key, ticket);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        var expires = ticket.Properties.ExpiresUtc ?? time.GetUtcNow() + DefaultLifetime;
        var stored = _protector.Protect(TicketSerializer.Default.Serialize(ticket));
        return cache.SetAsync(key, stored, new DistributedCacheEntryOptions { AbsoluteExpiration = expires });
    }

    public async Task<AuthenticationTicket?> RetrieveAsync(string key)
    {
        if (await cache.GetAsync(key) is not { } stored) return null;
        try
        {
            return TicketSerializer.Default.Deserialize(_protector.Unprotect(stored));
        }
        catch (CryptographicException)
        {
            return null; // keys of an earlier process: the session is gone.
        }
    }

    public Task RemoveAsync(string key) => cache.RemoveAsync(key);
}
