using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NSwag.CodeGeneration.CSharp;

namespace Gantry.Server.Tests;

/// <summary>
/// <c>/openapi.json</c> is enough to write a client: NSwag generates one from the document alone,
/// Roslyn compiles it, and it submits, gets, lists and cancels jobs against a real server.
/// </summary>
public sealed class OpenApiClientTests : IAsyncLifetime
{
    private readonly ApiServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();
    public Task DisposeAsync() => _server.DisposeAsync();

    private async Task<JsonElement> DocumentAsync() => JsonDocument.Parse(await _server.Http.GetStringAsync("/openapi.json")).RootElement;

    [Fact]
    public async Task Document_EveryOperationNamedWithItsStatusCodesProblemsAndBearerScheme()
    {
        var doc = await DocumentAsync();
        var names = new HashSet<string>();
        foreach (var path in doc.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject())
            {
                var what = $"{operation.Name} {path.Name}";
                Assert.True(operation.Value.TryGetProperty("operationId", out var id) && names.Add(id.GetString()!), $"{what}: no unique operationId");
                var responses = operation.Value.GetProperty("responses");
                Assert.True(responses.EnumerateObject().Any(r => r.Name.StartsWith('2')), $"{what}: no success response");
                if (path.Name.StartsWith("/api/", StringComparison.Ordinal))
                    Assert.True(responses.TryGetProperty("400", out var bad) && bad.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{what}: no 400 problem");
            }
        Assert.True(names.Count >= 28, $"only {names.Count} operations");

        var submit = doc.GetProperty("paths").GetProperty("/api/v1/jobs").GetProperty("post");
        Assert.True(submit.GetProperty("responses").TryGetProperty("201", out var created), "submit is not documented as 201");
        Assert.Contains("SubmitView", created.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetRawText(), StringComparison.Ordinal);
        Assert.Contains("JobDocument", submit.GetProperty("requestBody").GetRawText(), StringComparison.Ordinal);
        Assert.Contains("JobView", doc.GetProperty("paths").GetProperty("/api/v1/jobs/{id}").GetProperty("get").GetProperty("responses").GetProperty("200").GetRawText(), StringComparison.Ordinal);
        var bearer = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", bearer.GetProperty("type").GetString());
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());

        // The documented job document is the one the reader takes, field for field.
        var fields = doc.GetProperty("components").GetProperty("schemas").GetProperty("JobDocument").GetProperty("properties").EnumerateObject().Select(p => p.Name);
        Assert.Equal(Gantry.Protocol.JobDocumentReader.Fields.Where(f => f != "version").Order(), fields.Order());
        var text = doc.GetProperty("components").GetProperty("schemas").GetProperty("SubmitView").GetProperty("properties").GetProperty("id");
        Assert.Equal("string", text.GetProperty("type").GetString());
    }

    [Fact]
    public async Task GeneratedClient_SubmitsGetsListsAndCancelsJobs()
    {
        var document = await NSwag.OpenApiDocument.FromJsonAsync(await _server.Http.GetStringAsync("/openapi.json"));
        var settings = new CSharpClientGeneratorSettings { ClassName = "GantryClient", UseBaseUrl = true, GenerateClientInterfaces = false };
        settings.CSharpGeneratorSettings.Namespace = "Generated";
        settings.CSharpGeneratorSettings.JsonLibrary = NJsonSchema.CodeGeneration.CSharp.CSharpJsonLibrary.SystemTextJson;
        var code = new CSharpClientGenerator(document, settings).GenerateFile();
        var type = Compile(code).GetType("Generated.GantryClient", throwOnError: true)!;
        var ctor = type.GetConstructors().Single(c => c.GetParameters().Any(p => p.ParameterType == typeof(HttpClient)));
        var client = ctor.Invoke(ctor.GetParameters().Select(p => p.ParameterType == typeof(HttpClient) ? _server.Http : (object)_server.Http.BaseAddress!.ToString()).ToArray());
        type.GetProperty("BaseUrl")?.SetValue(client, _server.Http.BaseAddress!.ToString());

        var job = New(client, "JobDocument", ("Type", "echo"), ("Queue", "generated"));
        var submitted = await CallAsync(client, "SubmitJobsAsync", job);
        var id = (string)Get(submitted, "Id");
        Assert.Equal("queued", Get(submitted, "State"));

        var read = await CallAsync(client, "GetJobAsync", id);
        Assert.Equal(id, Get(read, "Id"));
        Assert.Equal("echo", Get(read, "Type"));
        Assert.Equal("generated", Get(read, "Queue"));

        var page = await CallAsync(client, "ListJobsAsync");
        Assert.Contains(id, ((System.Collections.IEnumerable)Get(page, "Jobs")).Cast<object>().Select(j => (string)Get(j, "Id")));

        var cancelled = await CallAsync(client, "CancelJobAsync", id);
        Assert.Equal("cancelled", Get(cancelled, "Outcome"));
        Assert.Equal("cancelled", Get(await CallAsync(client, "GetJobAsync", id), "State"));

        // A refusal reaches the client as the documented problem, with its status.
        var missing = await Assert.ThrowsAnyAsync<Exception>(() => CallAsync(client, "GetJobAsync", Guid.CreateVersion7().ToString()));
        Assert.Equal(404, Get(missing, "StatusCode"));
    }

    private static Assembly Compile(string code)
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("GeneratedGantryClient", [CSharpSyntaxTree.ParseText(code)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Disable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10)));
        image.Position = 0;
        return new AssemblyLoadContext("generated-client", isCollectible: true).LoadFromStream(image);
    }

    private static object New(object client, string type, params (string Name, object Value)[] values)
    {
        var created = Activator.CreateInstance(client.GetType().Assembly.GetType($"Generated.{type}", throwOnError: true)!)!;
        foreach (var (name, value) in values) created.GetType().GetProperty(name)!.SetValue(created, value);
        return created;
    }

    /// <summary>Calls an operation by its generated name (from its operationId), the overload without a cancellation token; unnamed parameters stay null.</summary>
    private static async Task<object> CallAsync(object client, string operation, params object[] args)
    {
        var method = client.GetType().GetMethods().Single(m => m.Name == operation && m.GetParameters().All(p => p.ParameterType != typeof(CancellationToken)));
        var given = new Queue<object>(args);
        var values = method.GetParameters().Select(p => given.Count > 0 && p.ParameterType.IsInstanceOfType(given.Peek()) ? given.Dequeue() : null).ToArray();
        Assert.True(given.Count == 0, $"{operation}({string.Join(", ", method.GetParameters().Select(p => $"{p.ParameterType.Name} {p.Name}"))}) did not take every argument");
        try
        {
            var task = (Task)method.Invoke(client, values)!;
            await task;
            return task.GetType().GetProperty("Result")!.GetValue(task)!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    }

    private static object Get(object value, string property) =>
        value.GetType().GetProperty(property)?.GetValue(value) ?? throw new Xunit.Sdk.XunitException($"{value.GetType().Name}.{property} is null or missing");
}
