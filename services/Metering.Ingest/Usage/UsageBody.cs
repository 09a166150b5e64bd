using System.Buffers;
using Metering.Contracts.Usage;
using Metering.ServiceDefaults;
using Microsoft.AspNetCore.Http.Features;

namespace Metering.Ingest.Usage;

/// <summary>
/// The bytes of a usage request's body, read whole into a pooled buffer within the endpoint's size limit (Kestrel
/// enforces it while the body is read), for <see cref="UsageRequestReader"/>. What <see cref="JsonBody"/> refuses before
/// reading (not declared as JSON) it refuses the same way; a body over the limit is 413 as there.
/// </summary>
public sealed class UsageBody : IDisposable
{
    private byte[]? _buffer;

    private UsageBody(byte[]? buffer, int length, FieldError? error, int statusCode) =>
        (_buffer, Length, Error, StatusCode) = (buffer, length, error, statusCode);

    public int Length { get; }

    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>Why the body was not read, or null.</summary>
    public FieldError? Error { get; }

    /// <summary>The status that answers <see cref="Error"/>.</summary>
    public int StatusCode { get; }

    public static async Task<UsageBody> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
        {
            using var refused = await JsonBody.ReadAsync(request, ct); // refuses it without reading: 415 or 400
            return new UsageBody(null, 0, refused.Error, refused.StatusCode);
        }
        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is long declared and > 0 and <= RecordUsage.MaxBodyBytes ? (int)declared + 1 : 16 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length), ct);
                if (read == 0) return new UsageBody(buffer, length, null, StatusCodes.Status200OK);
                length += read;
            }
        }
        catch (BadHttpRequestException ex)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (ex.StatusCode != StatusCodes.Status413PayloadTooLarge) return new UsageBody(null, 0, new FieldError("$", ex.Message), ex.StatusCode);
            // As JsonBody says it.
            var limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            return new UsageBody(null, 0, new FieldError("$", limit is null ? "is too large" : $"must be at most {limit} bytes"), StatusCodes.Status413PayloadTooLarge);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        if (_buffer is { } buffer) ArrayPool<byte>.Shared.Return(buffer);
        _buffer = null;
    }
}
