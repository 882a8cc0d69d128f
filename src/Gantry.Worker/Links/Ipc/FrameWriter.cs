using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gantry.Worker.Links.Ipc;

/// <summary>
/// Writes frames into a pooled buffer: <c>u32 length | u8 type | u32 id | body</c>, little-endian,
/// length counting everything after itself. Strings are <c>i32 byte length</c> (−1 for null) then UTF-8.
/// Not thread-safe: one writer per sender, reused across frames.
/// </summary>
public sealed class FrameWriter : IDisposable
{
    private byte[] _buffer;
    private int _length;
    private int _frameStart = -1;

    /// <summary>A writer whose pooled buffer starts at <paramref name="initialSize"/> bytes and grows as frames need.</summary>
    public FrameWriter(int initialSize = 4096) => _buffer = ArrayPool<byte>.Shared.Rent(initialSize);

    /// <summary>The frames written since the last <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);
    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public int Length => _length;

    /// <summary>Forgets the frames written, keeping the buffer.</summary>
    public void Reset()
    {
        _length = 0;
        _frameStart = -1;
    }

    /// <summary>Starts a frame of <paramref name="type"/> answering or asking request <paramref name="id"/> (0 for one-way); <see cref="End"/> closes it.</summary>
    public void Begin(IpcMessageType type, uint id)
    {
        if (_frameStart >= 0) throw new InvalidOperationException("a frame is already open");
        _frameStart = _length;
        Reserve(9);
        _length += 4;
        _buffer[_length++] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), id);
        _length += 4;
    }

    /// <summary>Closes the frame <see cref="Begin"/> started, writing its length; throws <see cref="InvalidOperationException"/> when none is open or its body is larger than <see cref="IpcFrames.MaxFrameBytes"/>.</summary>
    public void End()
    {
        if (_frameStart < 0) throw new InvalidOperationException("no frame is open");
        var bodyLength = _length - _frameStart - 4;
        if (bodyLength > IpcFrames.MaxFrameBytes) throw new InvalidOperationException($"an IPC frame of {bodyLength} bytes exceeds the limit of {IpcFrames.MaxFrameBytes}");
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_frameStart), (uint)bodyLength);
        _frameStart = -1;
    }

    /// <summary>Writes one byte.</summary>
    public void U8(byte value)
    {
        Reserve(1);
        _buffer[_length++] = value;
    }

    /// <summary>Writes a bool as one byte, 0 or 1.</summary>
    public void Bool(bool value) => U8(value ? (byte)1 : (byte)0);

    /// <summary>Writes a little-endian 32-bit integer.</summary>
    public void I32(int value)
    {
        Reserve(4);
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    /// <summary>Writes a little-endian 64-bit integer.</summary>
    public void I64(long value)
    {
        Reserve(8);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    /// <summary>Writes a little-endian 64-bit float.</summary>
    public void F64(double value)
    {
        Reserve(8);
        BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    /// <summary>Writes a Guid (16 bytes, <see cref="System.Guid.TryWriteBytes(Span{byte})"/> order).</summary>
    public void Guid(Guid value)
    {
        Reserve(16);
        value.TryWriteBytes(_buffer.AsSpan(_length));
        _length += 16;
    }

    /// <summary>A duration in ticks, −1 for none.</summary>
    public void Duration(TimeSpan? value) => I64(value?.Ticks ?? -1);

    /// <summary>A UTC instant in ticks, −1 for none.</summary>
    public void Time(DateTimeOffset? value) => I64(value?.UtcTicks ?? -1);

    /// <summary>Writes a string: its UTF-8 byte count as i32 (−1 for null), then the bytes.</summary>
    public void String(string? value)
    {
        if (value is null) { I32(-1); return; }
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        Reserve(4 + max);
        var n = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length + 4));
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), n);
        _length += 4 + n;
    }

    /// <summary>Writes bytes after their i32 count; with <paramref name="isNull"/>, the count −1 and nothing else.</summary>
    public void Bytes(ReadOnlySpan<byte> value, bool isNull = false)
    {
        if (isNull) { I32(-1); return; }
        Reserve(4 + value.Length);
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), value.Length);
        value.CopyTo(_buffer.AsSpan(_length + 4));
        _length += 4 + value.Length;
    }

    /// <summary>Writes a list of strings after its i32 count; null writes the count −1, which <see cref="FrameReader.Strings"/> reads as empty.</summary>
    public void Strings(IReadOnlyList<string>? values)
    {
        if (values is null) { I32(-1); return; }
        I32(values.Count);
        foreach (var v in values) String(v);
    }

    /// <summary>Writes a map: its i32 count, then each key as a string and its value with <paramref name="value"/>.</summary>
    public void Map<TValue>(IReadOnlyDictionary<string, TValue> values, Action<FrameWriter, TValue> value)
    {
        I32(values.Count);
        foreach (var (k, v) in values) { String(k); value(this, v); }
    }

    private void Reserve(int bytes)
    {
        if (_length + bytes <= _buffer.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    /// <summary>Returns the buffer to the pool; the writer must not be used after.</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
