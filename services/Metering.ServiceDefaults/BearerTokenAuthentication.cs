using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
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
    /// <summary>Admins and team viewers: who may read invoices and statements (a viewer only its own team's).</summary>
    public const string Reader = "reader";
}

/// <summary>The claim that scopes a viewer token to one team.</summary>
public static class TeamScope
{
    public const string ClaimType = "metering:team";

    /// <summary>The team a viewer is scoped to; null for every other role.</summary>
    public static string? ViewerTeam(this ClaimsPrincipal user) =>
        user.IsInRole(Roles.Viewer) ? user.FindFirst(ClaimType)?.Value : null;
}

/// <summary>The configured tokens and the role each grants.</summary>
public sealed class TokenOptions
{
    public string AdminToken { get; set; } = "";
    public string EmitterToken { get; set; } = "";
    /// <summary>Team → its viewer token.</summary>
    public IReadOnlyDictionary<string, string> ViewerTokens { get; set; } = new Dictionary<string, string>();
}

/// <summary>Reads <see cref="MeteringSettings.ViewerTokensVariable"/>: <c>team=token</c> pairs separated by commas.</summary>
public static class ViewerTokens
{
    public static IReadOnlyDictionary<string, string> Parse(string? setting, string adminToken, string emitterToken)
    {
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(setting)) return tokens;
        foreach (var pair in setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Messages name the team and position, never a token.
            var separator = pair.IndexOf('=');
            var team = separator > 0 ? pair[..separator].Trim() : "";
            var token = separator > 0 ? pair[(separator + 1)..].Trim() : "";
            if (team.Length == 0 || token.Length == 0)
                throw new InvalidOperationException($"{MeteringSettings.ViewerTokensVariable}: every entry must be 'team=token'.");
            if (!Metering.Contracts.Usage.UsageEventRules.IsValidTenant(team) || team == "unallocated")
                throw new InvalidOperationException($"{MeteringSettings.ViewerTokensVariable}: '{team}' is not a team a viewer can be scoped to.");
            if (token == adminToken || token == emitterToken || tokens.ContainsValue(token))
                throw new InvalidOperationException($"{MeteringSettings.ViewerTokensVariable}: the token of team '{team}' is used by another role or team.");
            if (TokenRules.IsDevelopmentToken(token))
                throw new InvalidOperationException($"{MeteringSettings.ViewerTokensVariable}: the token of team '{team}' is a development token of another role; a viewer needs a token of its own.");
            if (!tokens.TryAdd(team, token))
                throw new InvalidOperationException($"{MeteringSettings.ViewerTokensVariable}: team '{team}' appears twice.");
        }
        return tokens;
    }
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
        string? team = null;
        if (role is null)
            foreach (var (viewerTeam, token) in tokens.Value.ViewerTokens)
                if (Matches(presented, token)) (role, team) = (Roles.Viewer, viewerTeam);
        if (role is null) return Task.FromResult(AuthenticateResult.Fail("unknown token"));

        Claim[] claims = team is null
            ? [new Claim(ClaimTypes.Name, role), new Claim(ClaimTypes.Role, role)]
            : [new Claim(ClaimTypes.Name, $"{role}/{team}"), new Claim(ClaimTypes.Role, role), new Claim(TeamScope.ClaimType, team)];
        var identity = new ClaimsIdentity(claims, SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status401Unauthorized, "Authentication required", "Send 'Authorization: Bearer <token>' with a valid token.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "The token's role may not do this.");

    /// <summary>The same 403 for a viewer asking for another team's data as for a role that may not ask at all.</summary>
    public static IResult Forbidden() =>
        Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "The token's role may not do this.");

    private Task WriteProblem(int status, string title, string detail)
    {
        if (status == StatusCodes.Status401Unauthorized) Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(Context);
    }

    private static bool Matches(string presented, string expected) =>
        expected.Length > 0 &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
