namespace Gantry.Cli.Tests;

/// <summary>A directory of the test's own, deleted afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("gantry-cli-test-").FullName;
    public string Db => System.IO.Path.Combine(Path, "gantry.db");
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
