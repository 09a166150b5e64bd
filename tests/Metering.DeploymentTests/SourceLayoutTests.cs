using System.Text.RegularExpressions;

namespace Metering.DeploymentTests;

/// <summary>
/// One layout for the source: a folder inside a project is named for what it owns, as a noun (Invoices, Quotas,
/// TenantBudgets, Spend), and its files declare the namespace of their folder, so a type's namespace says where it is.
/// </summary>
public sealed partial class SourceLayoutTests
{
    /// <summary>Names that end like an activity but are the nouns the domain and .NET use for what they hold.</summary>
    private static readonly string[] NounsEndingInIng = ["Billing", "Clustering", "Hosting", "Pricing"];

    [Fact]
    public void Every_source_file_declares_the_namespace_of_its_folder()
    {
        var misplaced = SourceFiles()
            .Select(file => (file, Declared: DeclaredNamespace().Match(File.ReadAllText(file.Path)) is { Success: true } m ? m.Groups[1].Value : null))
            // Extension methods on an ASP.NET or .NET type live in that type's namespace by .NET's convention.
            .Where(f => f.Declared is not null && !f.Declared.StartsWith("Microsoft.", StringComparison.Ordinal) && f.Declared != f.file.FolderNamespace)
            .Select(f => $"{f.file.Relative}: namespace {f.Declared}, folder {f.file.FolderNamespace}")
            .ToList();

        Assert.Empty(misplaced);
    }

    [Fact]
    public void No_folder_is_named_for_an_activity()
    {
        var folders = SourceFiles().SelectMany(f => f.Folders).Distinct().ToList();

        Assert.Contains("Invoices", folders);
        var activities = folders.Where(f => f.EndsWith("ing", StringComparison.Ordinal) && !NounsEndingInIng.Contains(f)).ToList();
        Assert.True(activities.Count == 0, $"folders named for an activity: {string.Join(", ", activities)}");
    }

    private sealed record SourceFile(string Path, string Relative, string Project, IReadOnlyList<string> Folders)
    {
        public string FolderNamespace => string.Join('.', [Project, .. Folders]);
    }

    private static IEnumerable<SourceFile> SourceFiles() =>
        new[] { "services", "contracts" }
            .SelectMany(root => Directory.EnumerateDirectories(System.IO.Path.Combine(BuildOutput.RepositoryRoot, root)))
            .SelectMany(project => Directory.EnumerateFiles(project, "*.cs", SearchOption.AllDirectories)
                .Select(path => (path, project, parts: System.IO.Path.GetRelativePath(project, path).Split(System.IO.Path.DirectorySeparatorChar)))
                .Where(f => f.parts[0] is not ("bin" or "obj"))
                .Select(f => new SourceFile(f.path, System.IO.Path.GetRelativePath(BuildOutput.RepositoryRoot, f.path),
                    System.IO.Path.GetFileName(f.project), f.parts[..^1])));

    [GeneratedRegex(@"^namespace\s+([A-Za-z0-9_.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex DeclaredNamespace();
}
