namespace Metering.EndToEndTests;

/// <summary>
/// The teams several test classes define on a system, each the same way (a second definition changes nothing):
/// Research, with Nlp and Vision under it. The viewer tokens of <see cref="MeteringSystem.ViewerTokens"/> are scoped to them.
/// </summary>
public static class SharedTeams
{
    public const string Research = "e2e-research", Nlp = "e2e-nlp", Vision = "e2e-vision";
}
