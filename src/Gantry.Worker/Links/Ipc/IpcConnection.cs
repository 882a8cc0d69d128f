using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Gantry.Worker.Links.Ipc;

/// <summary>Decodes a response body.</summary>
public delegate T IpcDecoder<out T>(ref FrameReader reader);

/// <summary>Handles a request or one-way message; runs on the connection's read loop, so it must not block.</summary>
public delegate void IpcMessageHandler(IpcConnection connection, IpcMessageType type, uint id, ReadOnlySpan<byte> body);

/// <summary>
/// One end of a node–worker link over a Unix domain socket: length-prefixed frames, requests
/// matched to responses by id, one-way messages both ways. Frames are written whole under a lock
/// (one send per frame, no extra hop); one loop reads and dispatches. Both ends use it.
/// </summary>
public sealed class IpcConnection : IAsyncDisposable
{
    private const int ReadBufferBytes = 64 * 1024;
    private readonly Socket _socket;
    private readonly object _sendLock = new();
    private readonly FrameWriter _writer = new();
    private readonly ConcurrentDictionary<uint, Pending> _pending = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IpcMessageHandler? _onMessage;
    private int _nextId;
    private Task _readLoop = Task.CompletedTask;

    internal IpcConnection(Socket socket) => _socket = socket;

    /// <summary>Completes when the peer closed the socket or the connection failed.</summary>
    public Task Closed => _closed.Task;

    /// <summary>True once the peer closed the socket or the connection failed.</summary>
    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Connects to the socket at <paramref name="path"/>.</summary>
    public static async Task<IpcConnection> ConnectAsync(string path, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
            return new IpcConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Starts reading; <paramref name="onMessage"/> gets every request and one-way message.</summary>
    public void Start(IpcMessageHandler onMessage)
    {
        _onMessage = onMessage;
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>Sends a one-way message, or the response to request <paramref name="id"/>.</summary>
    public void Send<TState>(IpcMessageType type, uint id, TState state, Action<FrameWriter, TState>? body)
    {
        lock (_sendLock)
        {
            if (_closed.Task.IsCompleted) throw new IOException("the IPC connection is closed");
            _writer.Reset();
            _writer.Begin(type, id);
            body?.Invoke(_writer, state);
            _writer.End();
            try
            {
                var data = _writer.Written;
                while (data.Length > 0) data = data[_socket.Send(data)..];
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                Close();
                throw new IOException($"the IPC connection is closed ({ex.Message})", ex);
            }
        }
    }

    /// <summary>Sends a message with no body: one-way with id 0, or the empty response to request <paramref name="id"/>.</summary>
    public void Send(IpcMessageType type, uint id = 0) => Send<object?>(type, id, null, null);

    /// <summary>Answers request <paramref name="id"/> with an error the requester throws as <see cref="IpcRemoteException"/>.</summary>
    public void SendError(uint id, string message) => Send(IpcMessageType.Error, id, message, static (w, m) => w.String(m));

    /// <summary>
    /// Sends a request and waits for its response. When <paramref name="ct"/> fires first the wait ends,
    /// and a response that still arrives goes to <paramref name="orphaned"/> (so claimed jobs are not lost).
    /// </summary>
    public async Task<T> RequestAsync<TState, T>(IpcMessageType type, TState state, Action<FrameWriter, TState>? body,
        IpcDecoder<T> decode, CancellationToken ct, Action<T>? orphaned = null)
    {
        ct.ThrowIfCancellationRequested();
        var id = (uint)Interlocked.Increment(ref _nextId);
        var pending = new Pending<T>(decode, orphaned);
        _pending[id] = pending;
        try
        {
            Send(type, id, state, body);
        }
        catch
        {
            _pending.TryRemove(id, out _);
            throw;
        }
        if (_closed.Task.IsCompleted && _pending.TryRemove(id, out _)) throw new IOException("the IPC connection is closed");
        using (ct.UnsafeRegister(static s => ((Pending)s!).Cancel(), pending))
            return await pending.Task.ConfigureAwait(false);
    }

    private async Task ReadLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                // Dispatch every whole frame in the buffer.
                while (end - start >= 4)
                {
                    var length = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(start));
                    if (length < IpcFrames.HeaderBytes - 4 || length > IpcFrames.MaxFrameBytes)
                        throw new InvalidDataException($"IPC frame length {length} is out of range");
                    if (end - start - 4 < length)
                    {
                        if (length + 4 > buffer.Length) Grow(ref buffer, ref start, ref end, (int)length + 4);
                        break;
                    }
                    var type = (IpcMessageType)buffer[start + 4];
                    var id = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(start + 5));
                    Dispatch(type, id, buffer.AsSpan(start + IpcFrames.HeaderBytes, (int)length + 4 - IpcFrames.HeaderBytes));
                    start += (int)length + 4;
                }
                if (start == end) start = end = 0;
                else if (start > 0 && buffer.Length - end < 4096)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }
                var n = await _socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None).ConfigureAwait(false);
                if (n == 0) break;
                end += n;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidDataException or IOException)
        {
            // The peer went away, or spoke nonsense: either way the link is over.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Close();
        }
    }

    private static void Grow(ref byte[] buffer, ref int start, ref int end, int needed)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(needed);
        buffer.AsSpan(start, end - start).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = bigger;
        end -= start;
        start = 0;
    }

    private void Dispatch(IpcMessageType type, uint id, ReadOnlySpan<byte> body)
    {
        if (((byte)type & (byte)IpcMessageType.ResponseBit) != 0)
        {
            if (_pending.TryRemove(id, out var pending)) pending.Complete(type, body);
            return;
        }
        _onMessage?.Invoke(this, type, id, body);
    }

    private void Close()
    {
        if (!_closed.TrySetResult()) return;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
        _socket.Dispose();
        foreach (var id in _pending.Keys)
            if (_pending.TryRemove(id, out var p)) p.Fail(new IOException("the IPC connection closed"));
    }

    /// <summary>Closes the socket; requests still waiting fail with <see cref="IOException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Close();
        await _readLoop.ConfigureAwait(false);
        lock (_sendLock) _writer.Dispose();
    }

    private abstract class Pending
    {
        public abstract void Complete(IpcMessageType type, ReadOnlySpan<byte> body);
        public abstract void Fail(Exception ex);
        public abstract void Cancel();
    }

    private sealed class Pending<T>(IpcDecoder<T> decode, Action<T>? orphaned) : Pending
    {
        private readonly TaskCompletionSource<T> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task<T> Task => _tcs.Task;

        public override void Complete(IpcMessageType type, ReadOnlySpan<byte> body)
        {
            var reader = new FrameReader(body);
            if (type == IpcMessageType.Error)
            {
                _tcs.TrySetException(new IpcRemoteException(reader.String() ?? "the peer failed the request"));
                return;
            }
            T value;
            try
            {
                value = decode(ref reader);
            }
            catch (Exception ex) when (ex is InvalidDataException or DecoderFallbackException)
            {
                _tcs.TrySetException(ex);
                return;
            }
            if (!_tcs.TrySetResult(value)) orphaned?.Invoke(value);
        }

        public override void Fail(Exception ex) => _tcs.TrySetException(ex);
        public override void Cancel() => _tcs.TrySetCanceled();
    }
}

/// <summary>The other end of an IPC link answered a request with an error.</summary>
public sealed class IpcRemoteException(string message) : GantryException(message);
