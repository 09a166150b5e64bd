namespace Metering.ServiceDefaults;

/// <summary>
/// What the configured bearer tokens must be before a service starts: one token per role, development tokens only in
/// their own role, and outside Development long enough not to be guessed. Every message names the variable (and a
/// viewer's team), never a token.
/// </summary>
public static class TokenRules
{
    /// <summary>Outside Development: e.g. <c>openssl rand -hex 32</c> gives 64 characters.</summary>
    public const int MinimumLength = 32;

    public static bool IsDevelopmentToken(string token) =>
        token == MeteringSettings.DevAdminToken || token == MeteringSettings.DevEmitterToken;

    /// <summary>The admin and emitter tokens as read (<see cref="MeteringDefaults"/>); throws with the first rule broken.</summary>
    public static void CheckRoles(string adminToken, string emitterToken)
    {
        if (adminToken == emitterToken)
            throw new InvalidOperationException(
                $"{MeteringSettings.AdminTokenVariable} and {MeteringSettings.EmitterTokenVariable} are the same token; each role needs a token of its own.");
        if (adminToken == MeteringSettings.DevEmitterToken)
            throw new InvalidOperationException(
                $"{MeteringSettings.AdminTokenVariable} is the emitter's development token; a development token is accepted only in its own role.");
        if (emitterToken == MeteringSettings.DevAdminToken)
            throw new InvalidOperationException(
                $"{MeteringSettings.EmitterTokenVariable} is the admin's development token; a development token is accepted only in its own role.");
    }

    /// <summary>Outside Development every token, the viewers' too, has at least <see cref="MinimumLength"/> characters.</summary>
    public static void CheckStrength(string adminToken, string emitterToken, IReadOnlyDictionary<string, string> viewerTokens)
    {
        foreach (var (variable, token) in new[] { (MeteringSettings.AdminTokenVariable, adminToken), (MeteringSettings.EmitterTokenVariable, emitterToken) })
            if (token.Length < MinimumLength)
                throw new InvalidOperationException($"{variable} is shorter than {MinimumLength} characters; outside Development use a random token of at least {MinimumLength}.");
        foreach (var (team, token) in viewerTokens)
            if (token.Length < MinimumLength)
                throw new InvalidOperationException(
                    $"{MeteringSettings.ViewerTokensVariable}: the token of team '{team}' is shorter than {MinimumLength} characters; outside Development use a random token of at least {MinimumLength}.");
    }
}
