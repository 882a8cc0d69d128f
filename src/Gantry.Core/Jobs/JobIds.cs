using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Gantry.Jobs;

/// <summary>
/// Job ids are UUIDv7: unique without coordination and ordered by creation time. Within a process they
/// are strictly increasing (RFC 9562, method 3: the 12 bits after the millisecond count up within
/// one millisecond), so a store may order jobs by id: a batch lists in the order it was made.
/// </summary>
public static class JobIds
{
    /// <summary>The last (unix milliseconds &lt;&lt; 12 | counter) handed out.</summary>
    private static long _last;

    /// <summary>A new job id: a UUIDv7 from <paramref name="time"/> (the system clock when null), greater than every id this process made before. Thread-safe.</summary>
    public static Guid New(TimeProvider? time = null)
    {
        var ms = (time?.GetUtcNow() ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds();
        long next;
        while (true)
        {
            var last = Volatile.Read(ref _last);
            // A clock that stands still or steps back borrows from the counter (and, past 4,096, the next millisecond).
            next = Math.Max(ms << 12, last + 1);
            if (Interlocked.CompareExchange(ref _last, next, last) == last) break;
        }
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes[8..]);
        BinaryPrimitives.WriteInt64BigEndian(bytes, next << 4); // 48-bit ms, 4 bits for the version, 12-bit counter
        bytes[6] = (byte)(0x70 | ((next >> 8) & 0x0F));
        bytes[7] = (byte)next;
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F)); // RFC 4122 variant
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>Parses an id given by a person; the error names the bad text.</summary>
    public static Guid Parse(string text, string where = "id") =>
        Guid.TryParse(text?.Trim(), out var id)
            ? id
            : throw new InvalidInputException(where, $"'{text}' is not a job id (expected a UUID such as 0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f)");
}
