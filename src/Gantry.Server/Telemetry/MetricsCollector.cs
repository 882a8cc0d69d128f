using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Gantry.Telemetry;

namespace Gantry.Server.Telemetry;

/// <summary>
/// Listens to the <see cref="GantryMetrics"/> instruments of this process and keeps running totals
/// per tag set, to be written in Prometheus text format by <c>/metrics</c>. Recording is lock-free
/// and allocation-free for up to four tags, so it can stay on in the hot path.
/// </summary>
internal sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentSeries> _instruments = new();

    public MetricsCollector()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name != GantryMetrics.MeterName) return;
            var series = _instruments.GetOrAdd(instrument, i => new InstrumentSeries(i));
            listener.EnableMeasurementEvents(instrument, series);
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Appends every series seen so far in Prometheus text exposition format.</summary>
    public void WriteTo(StringBuilder sb)
    {
        foreach (var series in _instruments.Values.OrderBy(s => s.Name, StringComparer.Ordinal)) series.WriteTo(sb);
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Up to four tags by value; the rare larger set is keyed by its text.</summary>
    private readonly record struct TagKey(string? N0, object? V0, string? N1, object? V1, string? N2, object? V2, string? N3, object? V3, string? Rest)
    {
        public static TagKey From(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            static (string?, object?) At(ReadOnlySpan<KeyValuePair<string, object?>> t, int i) => i < t.Length ? (t[i].Key, t[i].Value) : (null, null);
            if (tags.Length > 4)
            {
                var text = new StringBuilder();
                foreach (var t in tags) text.Append(t.Key).Append('=').Append(t.Value).Append(';');
                return new TagKey(null, null, null, null, null, null, null, null, text.ToString());
            }
            var (n0, v0) = At(tags, 0);
            var (n1, v1) = At(tags, 1);
            var (n2, v2) = At(tags, 2);
            var (n3, v3) = At(tags, 3);
            return new TagKey(n0, v0, n1, v1, n2, v2, n3, v3, null);
        }

        public string Labels(string? extra = null)
        {
            var parts = new List<string>(5);
            if (Rest is not null)
            {
                foreach (var pair in Rest.Split(';', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.IndexOf('=');
                    parts.Add($"{Name(pair[..eq])}=\"{Escape(pair[(eq + 1)..])}\"");
                }
            }
            else
            {
                void Add(string? n, object? v) { if (n is not null) parts.Add($"{Name(n)}=\"{Escape(Convert.ToString(v, CultureInfo.InvariantCulture) ?? "")}\""); }
                Add(N0, V0); Add(N1, V1); Add(N2, V2); Add(N3, V3);
            }
            if (extra is not null) parts.Add(extra);
            return parts.Count == 0 ? "" : "{" + string.Join(',', parts) + "}";
        }
    }

    private sealed class InstrumentSeries(Instrument instrument)
    {
        private readonly ConcurrentDictionary<TagKey, Series> _series = new();
        private readonly bool _histogram = instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == typeof(Histogram<>);
        /// <summary>A histogram's buckets are those its instrument advises (<see cref="GantryMetrics"/>), as for any OpenTelemetry exporter.</summary>
        private readonly double[] _bounds = Bounds(instrument);

        private static double[] Bounds(Instrument instrument) => instrument switch
        {
            Histogram<double> { Advice.HistogramBucketBoundaries: { } b } => [.. b],
            Histogram<long> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(x => (double)x)],
            _ => GantryMetrics.DurationBuckets,
        };

        public string Name { get; } = Name(instrument.Name) + (instrument.Unit switch { "s" => "_seconds", "By" => "_bytes", _ => "" });

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = TagKey.From(tags);
            if (!_series.TryGetValue(key, out var series)) series = _series.GetOrAdd(key, _ => new Series(_histogram ? _bounds.Length : 0));
            series.Record(value, _histogram ? _bounds : null);
        }

        public void WriteTo(StringBuilder sb)
        {
            if (_series.IsEmpty) return;
            var name = _histogram ? Name : Name + "_total";
            sb.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(_histogram ? " histogram\n" : " counter\n");
            foreach (var (key, series) in _series.OrderBy(kv => kv.Key.Labels(), StringComparer.Ordinal))
            {
                if (!_histogram)
                {
                    sb.Append(name).Append(key.Labels()).Append(' ').Append(Number(series.Sum)).Append('\n');
                    continue;
                }
                long cumulative = 0;
                for (var i = 0; i < _bounds.Length; i++)
                {
                    cumulative += Interlocked.Read(ref series.Buckets[i]);
                    sb.Append(name).Append("_bucket").Append(key.Labels($"le=\"{Number(_bounds[i])}\"")).Append(' ').Append(cumulative).Append('\n');
                }
                var count = Interlocked.Read(ref series.Count);
                sb.Append(name).Append("_bucket").Append(key.Labels("le=\"+Inf\"")).Append(' ').Append(count).Append('\n');
                sb.Append(name).Append("_sum").Append(key.Labels()).Append(' ').Append(Number(series.Sum)).Append('\n');
                sb.Append(name).Append("_count").Append(key.Labels()).Append(' ').Append(count).Append('\n');
            }
        }
    }

    private sealed class Series(int buckets)
    {
        public readonly long[] Buckets = new long[buckets];
        public long Count;
        private long _sumBits;

        public double Sum => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits));

        public void Record(double value, double[]? bounds)
        {
            if (bounds is not null)
            {
                var i = Array.BinarySearch(bounds, value);
                if (i < 0) i = ~i;
                // Beyond the last bound only +Inf (the count) holds it.
                if (i < Buckets.Length) Interlocked.Increment(ref Buckets[i]);
                Interlocked.Increment(ref Count);
            }
            long seen, next;
            do
            {
                seen = Interlocked.Read(ref _sumBits);
                next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
            } while (Interlocked.CompareExchange(ref _sumBits, next, seen) != seen);
        }
    }

    private static string Name(string dotted) => dotted.Replace('.', '_').Replace('-', '_');

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    internal static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
