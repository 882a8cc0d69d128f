using System.Buffers.Binary;
using System.Text;

namespace Gantry.Worker.Links.Ipc;

/// <summary>Reads the body of one frame written by <see cref="FrameWriter"/>. A truncated body throws <see cref="InvalidDataException"/>.</summary>
public ref struct FrameReader(ReadOnlySpan<byte> body)
{
    private readonly ReadOnlySpan<byte> _body = body;
    private int _at;

    /// <summary>True when the whole body has been read.</summary>
    public readonly bool AtEnd => _at >= _body.Length;

    /// <summary>Reads one byte.</summary>
    public byte U8() => Take(1)[0];
    /// <summary>Reads a bool (one byte, nonzero is true).</summary>
    public bool Bool() => U8() != 0;
    /// <summary>Reads a little-endian 32-bit integer.</summary>
    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    /// <summary>Reads a little-endian 64-bit integer.</summary>
    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    /// <summary>Reads a little-endian 64-bit float.</summary>
    public double F64() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    /// <summary>Reads a Guid (16 bytes, <see cref="System.Guid.TryWriteBytes(Span{byte})"/> order).</summary>
    public Guid Guid() => new(Take(16));

    /// <summary>Reads a duration in ticks; null for −1.</summary>
    public TimeSpan? Duration() => I64() is var t && t < 0 ? null : TimeSpan.FromTicks(t);
    /// <summary>Reads a UTC instant in ticks; null for −1.</summary>
    public DateTimeOffset? Time() => I64() is var t && t < 0 ? null : new DateTimeOffset(t, TimeSpan.Zero);

    /// <summary>Reads a UTF-8 string after its i32 byte count; null for −1.</summary>
    public string? String()
    {
        var n = I32();
        return n < 0 ? null : Encoding.UTF8.GetString(Take(n));
    }

    /// <summary>Reads a string that must not be null; a null throws <see cref="InvalidDataException"/>.</summary>
    public string RequiredString() => String() ?? throw new InvalidDataException("IPC frame: a required string is null");

    /// <summary>Reads bytes after their i32 count; null for −1.</summary>
    public byte[]? Bytes()
    {
        var n = I32();
        return n < 0 ? null : Take(n).ToArray();
    }

    /// <summary>Reads a list of strings after its i32 count; empty for −1.</summary>
    public string[] Strings()
    {
        var n = Count();
        if (n < 0) return [];
        var list = new string[n];
        for (var i = 0; i < n; i++) list[i] = RequiredString();
        return list;
    }

    /// <summary>A count; checked against the bytes left so a corrupt frame cannot make a huge allocation.</summary>
    public int Count()
    {
        var n = I32();
        if (n > _body.Length - _at) throw new InvalidDataException($"IPC frame: a count of {n} exceeds the frame");
        return n;
    }

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || _at + n > _body.Length) throw new InvalidDataException("IPC frame: truncated body");
        var span = _body.Slice(_at, n);
        _at += n;
        return span;
    }
}
