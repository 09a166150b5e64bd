using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Metering.Budgets.Lists;

/// <summary>
/// The query parameters every Budgets list shares: <c>limit</c> (1 to 1000, default 100) and <c>cursor</c>, an opaque
/// token of the last row of the previous page (base64url of a tag and the row's key), so the next page starts after
/// it with an index seek: rows added before it are not shown, rows after it are, and none is shown twice.
/// </summary>
public static class ListPaging
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const string CursorRule = "must be a next_cursor this list returned";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>For the OpenAPI document: the paging parameters (read from the request by hand) and the answers every list shares.</summary>
    public static RouteHandlerBuilder WithPaging(this RouteHandlerBuilder builder, string rows) =>
        builder.WithQueryParameter("limit", $"{rows} per page, 1 to {MaxLimit}; default {DefaultLimit}")
            .WithQueryParameter("cursor", "The next_cursor of the previous page")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

    /// <summary>The parameter's value; null when absent. Given twice, an error naming it.</summary>
    public static string? Single(IQueryCollection query, string name, ICollection<FieldError> errors)
    {
        if (!query.TryGetValue(name, out var values)) return null;
        if (values.Count == 1) return values[0];
        errors.Add(new(name, "must be given once"));
        return null;
    }

    public static int Limit(IQueryCollection query, ICollection<FieldError> errors)
    {
        var text = Single(query, "limit", errors);
        if (text is null) return DefaultLimit;
        // Digits only: int.TryParse ignores trailing U+0000.
        if (text.Length is > 0 and <= 4 && text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) &&
            limit is >= 1 and <= MaxLimit)
            return limit;
        errors.Add(new("limit", $"must be a whole number from 1 to {MaxLimit}"));
        return DefaultLimit;
    }

    /// <summary>
    /// <c>limit</c> and <c>cursor</c>: the page's size and the key of the previous page's last row that the cursor carries
    /// (<paramref name="keyOf"/>; default when there is no cursor), with an error naming either that is wrong.
    /// </summary>
    public static (int Limit, TKey? After) Page<TKey>(IQueryCollection query, ICollection<FieldError> errors, Func<string, TKey?> keyOf)
    {
        var limit = Limit(query, errors);
        var after = default(TKey);
        if (Single(query, "cursor", errors) is { } cursor && (after = keyOf(cursor)) is null)
            errors.Add(new("cursor", CursorRule));
        return (limit, after);
    }

    /// <summary>The key a cursor of this list (<paramref name="tag"/>) carries; null when it is not one.</summary>
    public static string? KeyOf(string cursor, string tag)
    {
        if (cursor.Length is 0 or > 200 || !Base64Url.IsValid(cursor)) return null;
        try
        {
            var text = StrictUtf8.GetString(Base64Url.DecodeFromChars(cursor));
            return text.StartsWith(tag + ":", StringComparison.Ordinal) ? text[(tag.Length + 1)..] : null;
        }
        catch (Exception ex) when (ex is FormatException or DecoderFallbackException)
        {
            return null;
        }
    }

    public static string Encode(string tag, string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{tag}:{key}"));
}
