namespace Metering.Testing;

/// <summary>The repository the tests run from and the build outputs in it of the same configuration as the test assembly.</summary>
public static class BuildOutput
{
    /// <summary>The folder holding Metering.sln.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Release or Debug: the folder above the test assembly's <c>net10.0</c>.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The built assembly of the project <paramref name="project"/> in the repository folder <paramref name="folder"/> (services, infra).</summary>
    public static string Dll(string folder, string project)
    {
        var dll = Path.Combine(RepositoryRoot, folder, project, "bin", Configuration, "net10.0", $"{project}.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build the solution first: {dll} is missing.");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Metering.sln"))) return dir.FullName;
        throw new InvalidOperationException("Metering.sln not found above " + AppContext.BaseDirectory);
    }
}
