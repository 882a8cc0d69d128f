using System.Buffers.Binary;
using System.Text;

namespace Gantry.Worker.Links.Ipc;

/// <summary>Reads the body of one frame written by <see cref="FrameWriter"/>. A truncated body throws <see cref="InvalidDataException"/>.</summary>
public ref struct FrameReader(ReadOnlySpan<byte> body)
{
    private readonly ReadOnlySpan<byte> _body = body;
    private int _at;

    public readonly bool AtEnd => _at >= _body.Length;

    public byte U8() => Take(1)[0];
    public bool Bool() => U8() != 0;
    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public double F64() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
    public Guid Guid() => new(Take(16));

    public TimeSpan? Duration() => I64() is var t && t < 0 ? null : TimeSpan.FromTicks(t);
    public DateTimeOffset? Time() => I64() is var t && t < 0 ? null : new DateTimeOffset(t, TimeSpan.Zero);

    public string? String()
    {
        var n = I32();
        return n < 0 ? null : Encoding.UTF8.GetString(Take(n));
    }

    public string RequiredString() => String() ?? throw new InvalidDataException("IPC frame: a required string is null");

    public byte[]? Bytes()
    {
        var n = I32();
        return n < 0 ? null : Take(n).ToArray();
    }

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
