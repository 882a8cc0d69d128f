using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gantry.Server.Alerts;

/// <summary>
/// The signature of an alert's body, as common webhook senders make it: HMAC-SHA256 with the webhook's
/// secret over <c>{unix seconds}.{body}</c>, sent as <c>Gantry-Signature: t={unix seconds},v1={hex}</c>.
/// A receiver recomputes it over the raw body and the <c>t</c> it was given, compares in constant time,
/// and refuses a <c>t</c> too far from its own clock (a replay).
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header that carries the signature.</summary>
    public const string Header = "Gantry-Signature";
    /// <summary>The header that names the alert's event.</summary>
    public const string EventHeader = "Gantry-Event";
    /// <summary>The header that carries the delivery's id, the same on every retry of it (for a receiver that drops duplicates).</summary>
    public const string DeliveryHeader = "Gantry-Delivery";

    /// <summary>The header's value for <paramref name="body"/> signed at <paramref name="at"/>.</summary>
    internal static string Sign(string secret, string body, DateTimeOffset at)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"t={t},v1={Hex(secret, t, body)}";
    }

    /// <summary>True when <paramref name="header"/> signs <paramref name="body"/> with <paramref name="secret"/> within <paramref name="tolerance"/> of <paramref name="now"/>.</summary>
    public static bool Verify(string secret, string body, string? header, DateTimeOffset now, TimeSpan tolerance)
    {
        if (header is null) return false;
        string? t = null, v1 = null;
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal)) t = part[2..];
            else if (part.StartsWith("v1=", StringComparison.Ordinal)) v1 = part[3..];
        }
        if (t is null || v1 is null || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        if (Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds) return false;
        var expected = Encoding.ASCII.GetBytes(Hex(secret, t, body));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(v1));
    }

    private static string Hex(string secret, string t, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}")));
}
