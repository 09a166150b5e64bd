namespace Metering.DeploymentTests;

/// <summary>The deployment scripts of the repository read as text, for the tests that check what one says.</summary>
public static class RepositoryScripts
{
    /// <summary>The script at <paramref name="path"/> (from the repository root), asserted to hold each of <paramref name="phrases"/>.</summary>
    public static string AssertHolds(string path, params string[] phrases)
    {
        var script = File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, path));
        foreach (var phrase in phrases) Assert.Contains(phrase, script);
        return script;
    }
}
