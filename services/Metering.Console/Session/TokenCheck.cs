using System.Net;
using System.Net.Http.Headers;
using Metering.Contracts;

namespace Metering.Console.Session;

/// <summary>Who a token is, as Billing's <c>GET /v1/me</c> says; null when Billing does not know it.</summary>
public sealed class TokenCheck(HttpClient http)
{
    public async Task<MeView?> WhoIsAsync(string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, WhoAmI.Path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) return null;
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"Billing answered GET {WhoAmI.Path} with {(int)response.StatusCode}.", null, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<MeView>(MeteringJson.Options, ct)
            ?? throw new HttpRequestException($"Billing answered GET {WhoAmI.Path} with no body.");
    }
}
