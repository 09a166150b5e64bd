namespace Metering.DeploymentTests.Checks;

/// <summary>The repository this test runs from (the folder holding Metering.sln).</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Metering.sln"))) return dir.FullName;
        throw new InvalidOperationException("Metering.sln not found above " + AppContext.BaseDirectory);
    }
}
