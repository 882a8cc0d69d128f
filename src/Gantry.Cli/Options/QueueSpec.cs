using System.Globalization;

namespace Gantry.Cli.Options;

/// <summary>The value of <c>--queues</c>: it prints as it is written (<c>default:8,mail:2</c>), so help's default parses back.</summary>
internal sealed record QueueSpec(IReadOnlyDictionary<string, int> Queues)
{
    public override string ToString() => string.Join(",", Queues.Select(q => $"{q.Key}:{q.Value.ToString(CultureInfo.InvariantCulture)}"));
}
