using System.Security.Cryptography;
using Gantry.Server.Api;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry token new --scope S [--name N]</c>: a fresh API token and the config entry that admits it (its hash only).</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var scope = new Option<ApiScope>("--scope") { Description = "What the token may do: read, submit, worker or admin", Required = true, HelpName = "scope" };
        var name = new Option<string?>("--name") { Description = "A name for the token, shown nowhere secret (default: the scope)", HelpName = "name" };
        var create = new Command("new", "Print a new random token and the entry for the config file's \"tokens\" (the config keeps only its SHA-256)") { scope, name };
        create.SetHandler((parse, _) =>
        {
            var token = "gt_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var s = parse.GetValue(scope).ToString().ToLowerInvariant();
            var hash = Convert.ToHexStringLower(ApiToken.Hash(token));
            Console.Out.WriteLine($"""
                token   {token}
                config  {System.Text.Json.JsonSerializer.Serialize(new Entry(parse.GetValue(name) ?? s, s, hash), TokenJson.Default.Entry)}

                Give the token to its user (GANTRY_TOKEN or --token); put the config line in gantry.json's "tokens" array.
                """);
            return Task.FromResult(Cli.Ok);
        });
        return new Command("token", "Make API tokens") { create };
    }

    internal sealed record Entry(string Name, string Scope, string Sha256);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(TokenCommand.Entry))]
internal sealed partial class TokenJson : System.Text.Json.Serialization.JsonSerializerContext;
