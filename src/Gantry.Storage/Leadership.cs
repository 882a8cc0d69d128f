namespace Gantry.Storage;

/// <summary>
/// One election round. <paramref name="Ttl"/> bounds how long leadership outlives its holder when the
/// holder vanishes without resigning: a store whose lock lives in a session (PostgreSQL's advisory lock
/// on a dedicated connection) frees it as soon as the process or connection dies, and a store without
/// sessions (SQLite's lease row) lets it lapse once the ttl has passed without a renewal.
/// </summary>
/// <param name="Name">What is led, e.g. <c>maintenance</c>: one leader per name.</param>
/// <param name="HolderId">Who asks; unique per process.</param>
public sealed record LeaderElectParams(string Name, string HolderId, TimeSpan Ttl);

/// <summary>Gives up leadership of <paramref name="Name"/> if <paramref name="HolderId"/> holds it; otherwise nothing.</summary>
/// <param name="Name">What is led.</param>
/// <param name="HolderId">Who resigns: the id it was elected with.</param>
public sealed record LeaderResignParams(string Name, string HolderId);
