using System.Diagnostics;
using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>
/// What <c>dotnet pack</c> makes, checked from each project's evaluated properties (packing the solution takes minutes;
/// evaluating does not): every project under src/ is a package an app references (the node, part of the CLI, aside),
/// with one version, a licence, a readme, repository data and XML docs; the CLI is the <c>gantry</c> dotnet tool; tests,
/// samples and benchmarks are not packed.
/// </summary>
public sealed class PackageTests
{
    private static readonly string[] Properties =
        ["IsPackable", "PackageId", "Version", "PackAsTool", "ToolCommandName", "PackageLicenseExpression", "PackageReadmeFile",
         "RepositoryUrl", "PublishRepositoryUrl", "GenerateDocumentationFile", "IncludeSymbols"];

    private static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Gantry.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Gantry.slnx)");
    }

    private static async Task<Dictionary<string, string>> EvaluateAsync(string project)
    {
        var start = new ProcessStartInfo("dotnet", ["msbuild", project, "-nologo", .. Properties.Select(p => $"-getProperty:{p}")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"dotnet msbuild {project} failed: {await stderr}{await stdout}");
        using var doc = JsonDocument.Parse(await stdout);
        return doc.RootElement.GetProperty("Properties").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
    }

    [Fact]
    public async Task Pack_LibrariesAndTheTool_WithOneVersionAndPackageData_NothingElse()
    {
        var root = Root();
        var projects = Directory.GetFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}artifacts{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(p => Path.GetRelativePath(root, p)).Order(StringComparer.Ordinal).ToArray();
        using var throttle = new SemaphoreSlim(4);
        var evaluated = await Task.WhenAll(projects.Select(async p =>
        {
            await throttle.WaitAsync();
            try { return (Project: p, Props: await EvaluateAsync(Path.Combine(root, p))); }
            finally { throttle.Release(); }
        }));

        var packed = evaluated.Where(e => e.Props["IsPackable"] == "true").ToArray();
        foreach (var (project, props) in evaluated)
        {
            // Every project under src/ is a package but gantry-worker, an executable build-aot.sh publishes beside gantry.
            var isLibrary = project.StartsWith("src/", StringComparison.Ordinal) && project != "src/Gantry.Cli.Worker/Gantry.Cli.Worker.csproj";
            Assert.True(isLibrary == (props["IsPackable"] == "true"), $"{project}: IsPackable is {props["IsPackable"]}");
        }
        Assert.Single(packed.Select(e => e.Props["Version"]).Distinct());
        Assert.Equal("0.2.0", packed[0].Props["Version"]);
        foreach (var (project, props) in packed)
        {
            Assert.True(props["PackageLicenseExpression"] == "MIT", $"{project}: licence");
            Assert.True(props["PackageReadmeFile"] == "README.md", $"{project}: readme");
            Assert.True(props["RepositoryUrl"].StartsWith("https://", StringComparison.Ordinal) && props["PublishRepositoryUrl"] == "true", $"{project}: repository");
            Assert.True(props["GenerateDocumentationFile"] == "true" && props["IncludeSymbols"] == "true", $"{project}: XML docs and symbols");
        }

        var ids = packed.Select(e => e.Props["PackageId"]).ToHashSet(StringComparer.Ordinal);
        foreach (var id in new[] { "Gantry.Core", "Gantry.Storage", "Gantry.Storage.Sqlite", "Gantry.Storage.Postgres", "Gantry.Worker", "Gantry.Node", "Gantry.Server", "Gantry.Hosting", "Gantry.Testing", "gantry" })
            Assert.Contains(id, ids);
        var tool = Assert.Single(packed, e => e.Props["PackAsTool"] == "true");
        Assert.Equal("src/Gantry.Cli/Gantry.Cli.csproj", tool.Project);
        Assert.Equal(("gantry", "gantry"), (tool.Props["PackageId"], tool.Props["ToolCommandName"]));
        Assert.True(File.Exists(Path.Combine(root, "docs", "package-readme.md")));
    }
}
