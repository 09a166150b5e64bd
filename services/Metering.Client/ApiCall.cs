using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Metering.Contracts;
using Polly;

namespace Metering.Client;

/// <summary>One request of the client: a JSON body in the Metering shape, whether it may be repeated, and how its answer is read.</summary>
internal static class ApiCall
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public static HttpRequestMessage Request(HttpMethod method, string path, bool repeatable, byte[]? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        // Bytes, not a lazily serialized stream: a Content-Length, and the same body on every attempt.
        if (body is not null) request.Content = new ByteArrayContent(body) { Headers = { ContentType = Json } };
        request.Options.Set(MeteringResilience.Repeatable, repeatable);
        return request;
    }

    public static HttpRequestMessage Request<TBody>(HttpMethod method, string path, TBody body, bool repeatable) =>
        Request(method, path, repeatable, JsonSerializer.SerializeToUtf8Bytes(body, MeteringJson.Options));

    /// <summary>The answer as <typeparamref name="T"/> when it succeeded or has one of the <paramref name="answers"/>; any other status throws.</summary>
    public static async Task<T> SendAsync<T>(HttpClient http, HttpRequestMessage request, CancellationToken ct, params HttpStatusCode[] answers)
    {
        using (request)
        using (var response = await SendAsync(http, request, ct))
        {
            if (!response.IsSuccessStatusCode && !answers.Contains(response.StatusCode)) throw await MeteringApiException.ReadAsync(response, ct);
            return await response.Content.ReadFromJsonAsync<T>(MeteringJson.Options, ct)
                   ?? throw new MeteringApiException(response.StatusCode, "The answer had no body", $"{request.Method} {request.RequestUri} answered null");
        }
    }

    /// <summary>The answer as <typeparamref name="T"/>, or null when the resource does not exist (404).</summary>
    public static async Task<T?> FindAsync<T>(HttpClient http, HttpRequestMessage request, CancellationToken ct) where T : class
    {
        using (request)
        using (var response = await SendAsync(http, request, ct))
        {
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            if (!response.IsSuccessStatusCode) throw await MeteringApiException.ReadAsync(response, ct);
            return await response.Content.ReadFromJsonAsync<T>(MeteringJson.Options, ct);
        }
    }

    /// <summary>
    /// The resilience handler's refusals (an open circuit, a timed-out pipeline) surface as what an unreachable service
    /// raises, so a caller handles one exception for "Metering did not answer".
    /// </summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, ct);
        }
        catch (ExecutionRejectedException ex)
        {
            throw new HttpRequestException($"{request.Method} {request.RequestUri}: {ex.Message}", ex, HttpStatusCode.ServiceUnavailable);
        }
    }
}
