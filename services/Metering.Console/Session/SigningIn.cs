using Metering.Contracts;
using Metering.Contracts.Usage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;

namespace Metering.Console.Session;

/// <summary>The console's session as the app sees it: who is signed in, and the antiforgery token for <see cref="ConsoleSession.CsrfHeader"/>.</summary>
public sealed record SessionView(string Role, string? Team, string Csrf);

/// <summary>
/// <c>POST /auth/sign-in</c> (a form or JSON <c>{token}</c>): the token is checked with Billing's <c>GET /v1/me</c> and
/// kept in the server-side session, never sent back; <c>POST /auth/sign-out</c> ends the session;
/// <c>GET /auth/session</c> says who is signed in.
/// </summary>
public static class SigningIn
{
    public const string SignInPath = "/auth/sign-in";
    public const string SignOutPath = "/auth/sign-out";
    public const string SessionPath = "/auth/session";
    private const int MaxTokenLength = 4096;

    public static WebApplication MapSigningIn(this WebApplication app)
    {
        app.MapPost(SignInPath, SignIn)
            .WithName("SignIn").WithTags("Session")
            .WithSummary("Signs in with a token (form field or JSON token), checked with GET /v1/me; sets the HttpOnly session cookie")
            .Accepts<SignInRequest>("application/json", "application/x-www-form-urlencoded")
            .Produces<MeView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapPost(SignOutPath, (Delegate)SignOut)
            .WithName("SignOut").WithTags("Session")
            .WithSummary("Ends the session: its ticket is removed, so the cookie no longer works")
            .Produces(StatusCodes.Status204NoContent);
        app.MapGet(SessionPath, Describe)
            .RequireAuthorization(ConsoleSession.SignedIn)
            .WithName("GetSession").WithTags("Session")
            .WithSummary("The signed-in role, a viewer's team, and the antiforgery token to send in X-CSRF-TOKEN")
            .Produces<SessionView>()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    private static async Task<IResult> SignIn(HttpContext context, TokenCheck check, CancellationToken ct)
    {
        NoStore(context);
        if (!IsSameOrigin(context.Request))
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Cross-site sign-in refused",
                detail: "Sign in from the console's own pages.");
        var (token, error, status) = await ReadTokenAsync(context.Request, ct);
        if (error is not null)
            return Results.ValidationProblem(FieldError.ByField([error]), statusCode: status, title: "The request is invalid; nothing was changed.");

        MeView? me;
        try
        {
            me = await check.WhoIsAsync(token!, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The token cannot be checked now",
                detail: "Billing did not answer GET /v1/me; try again in a moment.");
        }
        if (me is null)
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Sign-in failed",
                detail: "The APIs do not know this token.");
        if (me.Role is not (Roles.Admin or Roles.Viewer))
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Sign-in refused",
                detail: $"The console is for admin and viewer tokens; this one is a{(me.Role == Roles.Emitter ? "n emitter" : $" {me.Role}")} token.");

        var properties = new AuthenticationProperties();
        properties.StoreTokens([new AuthenticationToken { Name = ConsoleSession.TokenName, Value = token! }]);
        await context.SignInAsync(ConsoleSession.Principal(me), properties);
        return Results.Ok(me);
    }

    private static async Task<IResult> SignOut(HttpContext context)
    {
        NoStore(context);
        await context.SignOutAsync();
        context.Response.Cookies.Delete(ConsoleSession.CsrfCookieName, new CookieOptions { Path = "/" });
        return Results.NoContent();
    }

    private static IResult Describe(HttpContext context, IAntiforgery antiforgery)
    {
        NoStore(context);
        var me = ConsoleSession.Describe(context.User);
        var tokens = antiforgery.GetAndStoreTokens(context);
        return Results.Ok(new SessionView(me.Role, me.Team, tokens.RequestToken!));
    }

    /// <summary>A browser names the page a POST comes from: another site's form must not sign a visitor in as someone else.</summary>
    private static bool IsSameOrigin(HttpRequest request)
    {
        if (request.Headers["Sec-Fetch-Site"].ToString() is "cross-site" or "same-site") return false;
        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0 || string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<(string? Token, FieldError? Error, int Status)> ReadTokenAsync(HttpRequest request, CancellationToken ct)
    {
        string? token;
        if (request.HasFormContentType)
        {
            try
            {
                var form = await request.ReadFormAsync(ct);
                token = form["token"].Count == 1 ? form["token"].ToString() : null;
            }
            catch (InvalidDataException ex)
            {
                return (null, new FieldError("$", $"is not a readable form: {ex.Message}"), StatusCodes.Status400BadRequest);
            }
        }
        else
        {
            using var body = await JsonBody.ReadAsync(request, ct);
            if (body.Error is not null) return (null, body.Error, body.StatusCode);
            token = body.Root.ValueKind == System.Text.Json.JsonValueKind.Object && body.Root.TryGetProperty("token", out var value)
                && JsonFields.TryGetText(value, out var text) ? text : null;
        }
        if (string.IsNullOrEmpty(token)) return (null, new FieldError("token", "is required: the API token to sign in with"), StatusCodes.Status400BadRequest);
        if (token.Length > MaxTokenLength) return (null, new FieldError("token", $"must be at most {MaxTokenLength} characters"), StatusCodes.Status400BadRequest);
        if (token.Any(c => c is < '!' or > '~')) return (null, new FieldError("token", "must be printable ASCII without spaces"), StatusCodes.Status400BadRequest);
        return (token, null, StatusCodes.Status200OK);
    }

    private static void NoStore(HttpContext context) => context.Response.Headers.CacheControl = "no-store";
}

/// <summary>The body of <c>POST /auth/sign-in</c>.</summary>
public sealed record SignInRequest(string Token);
