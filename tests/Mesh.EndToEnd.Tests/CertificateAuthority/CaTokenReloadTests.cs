using Mesh.ControlPlane.File;
using Mesh.Diagnostics;
using NUnit.Framework;

namespace Mesh.EndToEnd.Tests.CertificateAuthority;

/// <summary>Token changes in the control-plane file take effect at the next reload, like every other part of the file.</summary>
public sealed class CaTokenReloadTests
{
    private const string DashboardToken = "dashboard-secret-reload-1";
    private const string CountingToken = "counting-secret-reload-2";

    [Test]
    public async Task A_removed_token_is_refused_and_an_added_one_works_after_the_reload_and_the_log_names_the_entries()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mesh-ca-reload-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(path, Document($$"""[{ "Token": "{{DashboardToken}}", "Service": "dashboard" }]"""));
            using ControlPlaneFile file = ControlPlaneFile.Open(path, TimeSpan.Zero);
            await using CaApiServer server = await CaApiServer.StartAsync(file);
            string dashboardCsr = CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard"));
            string countingCsr = CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/counting"));
            Assert.That((await server.SignAsync(DashboardToken, dashboardCsr)).Status, Is.EqualTo(200));
            Assert.That((await server.SignAsync(CountingToken, countingCsr)).Status, Is.EqualTo(403));

            // Revoke dashboard's token, add counting's, with a length change so the reload sees the file changed.
            await File.WriteAllTextAsync(path, Document($$"""[ { "Token": "{{CountingToken}}", "Service": "counting" } ]"""));
            Assert.That(file.ReloadIfChanged(), Is.True);

            CaAnswer revoked = await server.SignAsync(DashboardToken, dashboardCsr);
            CaAnswer added = await server.SignAsync(CountingToken, countingCsr);
            Assert.That(revoked.Status, Is.EqualTo(403), revoked.ToString());
            Assert.That(revoked.Rule, Is.EqualTo("Unauthorized"));
            Assert.That(added.Status, Is.EqualTo(200), added.ToString());
            Assert.That(server.Issued, Is.EqualTo(2), "dashboard's first leaf and counting's after the reload");

            string[] changes = [.. server.Logs.WithId(MeshLogEvents.CaTokensChanged).Select(e => e.Message)];
            Assert.That(changes, Has.Some.Contains("service default/default/dashboard").And.Some.Contains("service default/default/counting"), string.Join(" | ", changes));
            Assert.That(server.AllLogText(), Does.Not.Contain(DashboardToken).And.Not.Contain(CountingToken));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task A_replaced_token_is_refused_and_the_log_says_the_entry_changed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mesh-ca-reload-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(path, Document($$"""[{ "Token": "{{DashboardToken}}", "Service": "dashboard" }]"""));
            using ControlPlaneFile file = ControlPlaneFile.Open(path, TimeSpan.Zero);
            await using CaApiServer server = await CaApiServer.StartAsync(file);
            await File.WriteAllTextAsync(path, Document("""[{ "Token": "dashboard-rotated-secret-3", "Service": "dashboard" }]"""));
            Assert.That(file.ReloadIfChanged(), Is.True);

            string csr = CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard"));
            Assert.That((await server.SignAsync(DashboardToken, csr)).Status, Is.EqualTo(403));
            Assert.That((await server.SignAsync("dashboard-rotated-secret-3", csr)).Status, Is.EqualTo(200));
            Assert.That(
                server.Logs.WithId(MeshLogEvents.CaTokensChanged).Select(e => e.Message),
                Has.Some.Contains("service default/default/dashboard").And.Some.Contains("replaced"));
            Assert.That(server.AllLogText(), Does.Not.Contain("dashboard-rotated-secret-3").And.Not.Contain(DashboardToken));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task An_invalid_token_list_on_reload_keeps_the_tokens_in_force_and_the_log_shows_no_token()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mesh-ca-reload-{Guid.NewGuid():N}.json");
        var fileLogs = new Support.CapturedLogs();
        try
        {
            await File.WriteAllTextAsync(path, Document($$"""[{ "Token": "{{DashboardToken}}", "Service": "dashboard" }]"""));
            using ControlPlaneFile file = ControlPlaneFile.Open(path, TimeSpan.Zero, logger: fileLogs.CreateLogger("Mesh.ControlPlane"));
            await using CaApiServer server = await CaApiServer.StartAsync(file);

            // The same token in two entries: refused, so the file's previous configuration stays in force.
            await File.WriteAllTextAsync(path, Document($$"""[{ "Token": "{{CountingToken}}", "Service": "dashboard" }, { "Token": "{{CountingToken}}", "Service": "counting" }]"""));
            Assert.That(file.ReloadIfChanged(), Is.False);

            string csr = CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard"));
            Assert.That((await server.SignAsync(DashboardToken, csr)).Status, Is.EqualTo(200));
            Assert.That((await server.SignAsync(CountingToken, CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/counting")))).Status, Is.EqualTo(403));
            Assert.That(fileLogs.WithId(MeshLogEvents.ControlPlaneInvalid).Single().Message, Does.Contain("CA.Tokens[1].Token").And.Not.Contain(CountingToken));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Document(string tokens) => $$"""
        {
          "TrustDomain": "{{CaApiServer.TrustDomainName}}",
          "CA": { "Address": "http://127.0.0.1:8501", "Tokens": {{tokens}} }
        }
        """;
}
