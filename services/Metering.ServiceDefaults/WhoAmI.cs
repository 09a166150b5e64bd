using System.Security.Claims;
using Metering.Contracts;
using Microsoft.AspNetCore.Routing;

namespace Metering.ServiceDefaults;

/// <summary>
/// <c>GET /v1/me</c> (any role): who the presented token is, so a client (the console) can show what it may do. Only
/// the role and a viewer's team, never a token.
/// </summary>
public static class WhoAmI
{
    public const string Path = "/v1/me";

    internal static void MapWhoAmI(this IEndpointRouteBuilder app) =>
        app.MapGet(Path, (ClaimsPrincipal user) => Results.Ok(Describe(user)))
            .RequireAuthorization()
            .WithName("GetMe").WithTags("Identity")
            .WithSummary("The role of the presented token, and a viewer's team")
            .Produces<MeView>();

    public static MeView Describe(ClaimsPrincipal user) =>
        user.IsInRole(Roles.Admin) ? new MeView(Roles.Admin)
        : user.IsInRole(Roles.Emitter) ? new MeView(Roles.Emitter)
        : new MeView(Roles.Viewer, user.ViewerTeam());
}
