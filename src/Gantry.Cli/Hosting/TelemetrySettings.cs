using Gantry.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gantry.Cli.Hosting;

/// <summary>
/// Metrics and traces export over OTLP, from the config file's <c>telemetry</c> section or the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (and <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>) variables.
/// </summary>
internal sealed record TelemetrySettings
{
    public Uri? OtlpEndpoint { get; init; }

    /// <summary><c>grpc</c> (default, port 4317) or <c>http/protobuf</c> (port 4318).</summary>
    public string OtlpProtocol { get; init; } = "grpc";

    public TimeSpan ExportInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The config's settings, else the environment's, else null (no export). An executable without the exporter
    /// (<see cref="TelemetryExportFeature"/>) refuses either, naming where it is set.
    /// </summary>
    public static TelemetrySettings? Resolve(GantryConfig config)
    {
        if (config.Telemetry is not null)
        {
            TelemetryExportFeature.Require($"{Path.GetFileName(config.Source ?? GantryConfig.DefaultFile)}: telemetry");
            return config.Telemetry;
        }
        if (Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is not { Length: > 0 } env) return null;
        if (!Uri.TryCreate(env, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new InvalidInputException("OTEL_EXPORTER_OTLP_ENDPOINT", $"'{env}' is not an http(s) URL");
        TelemetryExportFeature.Require("OTEL_EXPORTER_OTLP_ENDPOINT");
        return new TelemetrySettings
        {
            OtlpEndpoint = uri,
            OtlpProtocol = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL") is "http/protobuf" ? "http/protobuf" : "grpc",
        };
    }

    /// <summary>
    /// Registers the meter and tracer providers (factories, so that the host disposes them, flushing the last export, when
    /// it stops). Only here and in the methods below are OpenTelemetry's types named: a process without telemetry export
    /// never loads it.
    /// </summary>
    public void AddTo(IServiceCollection services, string serviceName)
    {
        // Resolve has refused the settings where the exporter is left out; the test lets the trimmer drop it.
        if (!TelemetryExportFeature.IsSupported) return;
        services.AddSingleton(_ => Start(serviceName));
        services.AddSingleton(_ => StartTracing(serviceName));
    }

    /// <summary>Makes the providers <see cref="AddTo"/> registered, so that export starts with the host.</summary>
    public void StartIn(IServiceProvider services)
    {
        if (!TelemetryExportFeature.IsSupported) return;
        services.GetRequiredService<MeterProvider>();
        services.GetRequiredService<TracerProvider>();
    }

    /// <summary>Starts exporting Gantry's meter; dispose to flush and stop.</summary>
    public MeterProvider Start(string serviceName) =>
        Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r => r.AddService(serviceName, serviceVersion: Commands.Banner.Version))
            .AddMeter(GantryMetrics.MeterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                Export(exporter, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)ExportInterval.TotalMilliseconds;
            })
            .Build();

    /// <summary>The collector's address and protocol. With http/protobuf a bare endpoint gets the signal's path, as the
    /// OTLP specification asks.</summary>
    private void Export(OtlpExporterOptions exporter, string signalPath)
    {
        var endpoint = OtlpEndpoint!;
        var http = OtlpProtocol == "http/protobuf";
        exporter.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        exporter.Endpoint = http && endpoint.AbsolutePath is "/" or "" ? new Uri(endpoint, signalPath) : endpoint;
    }

    /// <summary>Starts exporting Gantry's spans (<see cref="GantryTracing"/>) to the same collector; dispose to flush and stop.</summary>
    public TracerProvider StartTracing(string serviceName) =>
        Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(r => r.AddService(serviceName, serviceVersion: Commands.Banner.Version))
            .AddSource(GantryTracing.SourceName)
            .AddOtlpExporter(exporter => Export(exporter, "v1/traces"))
            .Build();
}
