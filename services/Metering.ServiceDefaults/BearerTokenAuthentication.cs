using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Metering.ServiceDefaults;

public static class Roles
{
    public const string Admin = "admin";
    public const string Emitter = "emitter";
    public const string Viewer = "viewer";
}

public static class Policies
{
    public const string Admin = "admin";
    /// <summary>Emitters and admins: who may send usage and ask for authorisation.</summary>
    public const string Emitter = "emitter";
}

/// <summary>The configured tokens and the role each grants.</summary>
public sealed class TokenOptions
{
    public string AdminToken { get; set; } = "";
    public string EmitterToken { get; set; } = "";
}

/// <summary>Static bearer tokens with a role (PRODUCT §5). Tokens are compared in constant time and never logged.</summary>
public sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptions<TokenOptions> tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return Task.FromResult(AuthenticateResult.NoResult());
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Task.FromResult(AuthenticateResult.Fail("not a bearer token"));

        var presented = header["Bearer ".Length..].Trim();
        var role = Matches(presented, tokens.Value.AdminToken) ? Roles.Admin
            : Matches(presented, tokens.Value.EmitterToken) ? Roles.Emitter
            : null;
        if (role is null) return Task.FromResult(AuthenticateResult.Fail("unknown token"));

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, role), new Claim(ClaimTypes.Role, role)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status401Unauthorized, "Authentication required", "Send 'Authorization: Bearer <token>' with a valid token.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "The token's role may not do this.");

    private Task WriteProblem(int status, string title, string detail)
    {
        if (status == StatusCodes.Status401Unauthorized) Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(Context);
    }

    private static bool Matches(string presented, string expected) =>
        expected.Length > 0 &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
