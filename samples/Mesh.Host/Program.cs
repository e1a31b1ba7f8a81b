using System.Net;
using Mesh.AspNetCore;
using Mesh.Consul;
using Mesh.ControlPlane.File;
using Mesh.Host;
using Mesh.Host.Roles;
using Mesh.Tls.Authority;
using Mesh.Tls.Authority.Api;

// One role of the mesh per process: the CA, a mesh gateway or a sidecar, all described by one control-plane file; or a sidecar
// or a mesh gateway of a Consul cluster (--consul), described by their registrations with the local agent.
// Every start-up failure ends in one line on stderr and an exit code documented in --help (HostExitCodes), never an unhandled
// exception: an operator reads what to fix, a supervisor branches on the code.
HostArguments? arguments = HostArguments.Parse(args, out string? error);
if (arguments is null)
{
    if (error is not null)
    {
        Console.Error.WriteLine($"Mesh.Host: {error}");
        return HostExitCodes.Usage;
    }

    Console.Out.WriteLine(HostArguments.Usage);
    return HostExitCodes.Success;
}

if (arguments.Role == "gateway")
{
    // On Linux the gateway runs its own epoll loop. Elsewhere it runs on the socket engine, whose continuations here only
    // parse, route and splice, never block: run them on the engine's own thread rather than handing every wake-up to the thread
    // pool (see benchmarks/README.md). Read once, at the first socket operation.
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
    if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT") is null)
    {
        // One epoll thread per two cores: the two sockets of a relayed connection then share a thread more often, so a
        // handshake's hops wake fewer threads (measured with the gateway relay tool, benchmarks/README.md).
        Environment.SetEnvironmentVariable(
            "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT",
            Math.Max(1, Environment.ProcessorCount / 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

ControlPlaneConfiguration? configuration = null;
ConsulOptions? consulOptions = null;
if (arguments.UsesConsul)
{
    try
    {
        // Consul's own variables (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN(_FILE), CONSUL_CACERT, ...), then the command line.
        consulOptions = ConsulOptions.FromEnvironment();
        consulOptions.Address = arguments.ConsulAddress ?? consulOptions.Address;
        if (arguments.ConsulToken is not null)
        {
            (consulOptions.Token, consulOptions.TokenFile) = (arguments.ConsulToken, null);
        }
    }
    catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"Mesh.Host: the Consul settings are invalid: {ex.Message.ReplaceLineEndings(" ")}");
        return HostExitCodes.Configuration;
    }
}
else
{
    try
    {
        configuration = ControlPlaneConfiguration.Load(arguments.ConfigPath);
    }
    catch (ControlPlaneFileException ex)
    {
        Console.Error.WriteLine($"Mesh.Host: {ex.Message.ReplaceLineEndings(" ")}");
        return HostExitCodes.Configuration;
    }
}

if (arguments.Role == "ca" && configuration!.CertificateAuthorityAddress is null)
{
    Console.Error.WriteLine($"Mesh.Host: the control-plane file {arguments.ConfigPath} has no CA.Address for the CA role to listen on.");
    return HostExitCodes.Configuration;
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.Logging.SetMinimumLevel(arguments.Verbose ? LogLevel.Debug : LogLevel.Information);
builder.Logging.AddFilter("Microsoft", arguments.Verbose ? LogLevel.Information : LogLevel.Warning);
if (!arguments.Verbose)
{
    // The generic host logs a failed start with the exception's stack trace; the host reports it itself, in one line.
    builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
}

if (Environment.GetEnvironmentVariable("MESH_LOG_FORMAT") == "json")
{
    // One JSON object a line, with every structured field: what the demo (or a log shipper) reads.
    builder.Logging.AddJsonConsole(o => o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false });
}
else
{
    builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
}
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
builder.Services.AddSingleton(arguments);
builder.Services.AddSingleton<Readiness>();
if (consulOptions is not null)
{
    builder.Services.AddSingleton(sp => new ConsulControlPlane(consulOptions, sp.GetRequiredService<ILoggerFactory>()));
}
else
{
    builder.Services.AddSingleton(sp => ControlPlaneFile.Open(arguments.ConfigPath, TimeSpan.FromSeconds(1), logger: sp.GetRequiredService<ILoggerFactory>().CreateLogger("Mesh.ControlPlane")));
}

IPEndPoint? listen = arguments.Health;
switch (arguments.Role)
{
    case "ca":
        if (configuration!.CertificateAuthorityAddress is not { } caAddress)
        {
            Console.Error.WriteLine("Mesh.Host: the control-plane file has no CA.Address for the CA role to listen on.");
            return 1;
        }

        listen = IPEndPoint.Parse($"{caAddress.Host}:{caAddress.Port}");
        builder.Services.AddSingleton(sp => CertificateAuthorityRole.CreateAuthority(configuration, arguments.DataDirectory, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(sp => new CertificateAuthorityApi(
            sp.GetRequiredService<MeshCertificateAuthority>(),
            sp.GetRequiredService<ControlPlaneFile>(),
            logger: sp.GetRequiredService<ILogger<CertificateAuthorityApi>>()));
        break;
    case "gateway" when arguments.UsesConsul:
        builder.Services.AddHostedService<ConsulGatewayRole>();
        break;
    case "gateway":
        builder.Services.AddHostedService<GatewayRole>();
        break;
    case "sidecar" when arguments.UsesConsul:
        builder.Services.AddHostedService<ConsulSidecarRole>();
        break;
    case "sidecar":
        builder.Services.AddHostedService<SidecarRole>();
        break;
}

builder.WebHost.UseUrls(listen is null ? "http://127.0.0.1:0" : $"http://{listen}");
WebApplication? app = null;
try
{
    app = builder.Build();
    var readiness = app.Services.GetRequiredService<Readiness>();
    // The health answers name the process, so a supervisor (the demo) can tell its own child from another program that
    // happens to answer on the same address.
    string processId = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
    app.MapGet("/health/live", (HttpContext context) =>
    {
        context.Response.Headers["Mesh-Process-Id"] = processId;
        return "live";
    });
    app.MapGet("/health/ready", (HttpContext context) =>
    {
        context.Response.Headers["Mesh-Process-Id"] = processId;
        return readiness.IsReady ? Results.Text("ready") : Results.StatusCode(503);
    });
    if (arguments.Role == "ca")
    {
        app.MapMeshCertificateAuthority(app.Services.GetRequiredService<CertificateAuthorityApi>());
        app.Lifetime.ApplicationStarted.Register(readiness.MarkReady);
    }

    app.Lifetime.ApplicationStopping.Register(readiness.MarkDraining);
    if (!arguments.UsesConsul)
    {
        _ = app.Services.GetRequiredService<ControlPlaneFile>();
    }

    await app.StartAsync();
}
catch (Exception ex)
{
    if (app is not null)
    {
        // Release what the roles that did start hold (listeners, the CA client), so the report can tell which address
        // another process holds, and so no foreground thread keeps the process alive.
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    return StartupFailure.Report(ex, arguments, configuration, listen);
}

await app.WaitForShutdownAsync();
await app.DisposeAsync();
return HostExitCodes.Success;
