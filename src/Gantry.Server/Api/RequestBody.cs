using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>A document posted to the API, read whole once its declared size is within <see cref="ApiOptions.MaxRequestBytes"/>.</summary>
internal static class RequestBody
{
    /// <summary>The body as text; throws <see cref="RequestTooLargeException"/> (413) for a declared size over the limit.</summary>
    public static async Task<string> ReadAsync(HttpRequest request, ApiOptions options, CancellationToken ct)
    {
        if (request.ContentLength > options.MaxRequestBytes)
            throw new RequestTooLargeException($"the body is {request.ContentLength:N0} bytes, over the limit of {options.MaxRequestBytes:N0}");
        // Strict: bytes that are not UTF-8 are refused, never turned into U+FFFD (two different keys would become one).
        using var reader = new StreamReader(request.Body, Strict);
        try
        {
            return await reader.ReadToEndAsync(ct).ConfigureAwait(false);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new InvalidInputException("body", "is not UTF-8 text");
        }
    }

    private static readonly System.Text.UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>A request body over the API's limit.</summary>
internal sealed class RequestTooLargeException(string message) : GantryException(message);
