using System.Security.Claims;
using Metering.Contracts;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;

namespace Metering.Console.Session;

/// <summary>
/// The sign-in session: ASP.NET cookie authentication whose ticket stays server-side (<see cref="SessionTickets"/>),
/// the cookie HttpOnly, SameSite=Strict and Secure on HTTPS; ASP.NET antiforgery for every state-changing call, its
/// request token handed to the app by <c>GET /auth/session</c> and sent back in <see cref="CsrfHeader"/>.
/// </summary>
public static class ConsoleSession
{
    public const string CookieName = "metering.session";
    public const string CsrfCookieName = "metering.csrf";
    public const string CsrfHeader = "X-CSRF-TOKEN";
    /// <summary>Where the ticket keeps the bearer token (<see cref="AuthenticationTokenExtensions"/>).</summary>
    public const string TokenName = "access_token";
    public const string TeamClaim = "metering:team";
    public const string SignedIn = "console-session";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    public static WebApplicationBuilder AddConsoleSession(this WebApplicationBuilder builder)
    {
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("metering-console");
        if (ConsoleSettings.KeysFolder(builder.Configuration) is { } folder)
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(folder));
        else
            dataProtection.UseEphemeralDataProtectionProvider();

        builder.Services.AddDistributedMemoryCache();
        builder.Services.AddSingleton<SessionTickets>();
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.Cookie.Path = "/";
                o.ExpireTimeSpan = Lifetime;
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = context => Refuse(context.HttpContext, StatusCodes.Status401Unauthorized,
                    "Not signed in", "Sign in to the console first (POST /auth/sign-in with a token).");
                o.Events.OnRedirectToAccessDenied = context => Refuse(context.HttpContext, StatusCodes.Status403Forbidden,
                    "Forbidden", "This session may not do that.");
            });
        builder.Services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<SessionTickets>((o, tickets) => o.SessionStore = tickets);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(SignedIn, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin, Roles.Viewer));
        builder.Services.AddAntiforgery(o =>
        {
            o.HeaderName = CsrfHeader;
            o.Cookie.Name = CsrfCookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.Path = "/";
            o.SuppressXFrameOptionsHeader = true; // SecurityHeaders sends DENY on every response.
        });
        return builder;
    }

    /// <summary>A random session id as the name identifier, so antiforgery tokens are bound to this one session.</summary>
    public static ClaimsPrincipal Principal(MeView me) =>
        new(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, Guid.NewGuid().ToString("N")),
                new Claim(ClaimTypes.Role, me.Role),
                .. me.Team is { } team ? [new Claim(TeamClaim, team)] : Array.Empty<Claim>(),
            ],
            CookieAuthenticationDefaults.AuthenticationScheme));

    public static MeView Describe(ClaimsPrincipal user) =>
        new(user.FindFirstValue(ClaimTypes.Role) ?? "", user.FindFirstValue(TeamClaim));

    /// <summary>GET, HEAD, OPTIONS and TRACE change nothing; anything else needs the antiforgery header.</summary>
    public static bool IsStateChanging(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    /// <summary>
    /// The header only: a form field would make antiforgery read (and use up) a body that is still to be forwarded.
    /// </summary>
    public static async Task<bool> HasValidCsrfHeaderAsync(HttpContext context) =>
        context.Request.Headers.ContainsKey(CsrfHeader)
        && await context.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(context);

    public static Task Refuse(HttpContext context, int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
}
