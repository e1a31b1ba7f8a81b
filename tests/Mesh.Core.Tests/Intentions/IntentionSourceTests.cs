using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

public sealed class IntentionSourceTests
{
    [Test]
    public void Starts_denying_everything_and_swaps_snapshots_with_a_change_notification()
    {
        var source = new InMemoryIntentionSource();
        Assert.That(source.Current, Is.SameAs(IntentionSet.Empty));
        Assert.That(source.Current.Decide(new ServiceName("web"), new ServiceName("api")).IsAllowed, Is.False);

        var token = source.GetChangeToken();
        var next = new IntentionSet([new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Allow)]);
        source.Set(next);

        Assert.Multiple(() =>
        {
            Assert.That(token.HasChanged, Is.True);
            Assert.That(source.GetChangeToken().HasChanged, Is.False);
            Assert.That(source.Current, Is.SameAs(next));
            Assert.That(source.Current.Decide(new ServiceName("web"), new ServiceName("api")).IsAllowed, Is.True);
        });
    }

    [Test]
    public async Task Decisions_running_while_snapshots_swap_always_see_a_whole_snapshot()
    {
        // Two snapshots that agree within themselves: in A web and admin are allowed, in B both denied.
        var a = new IntentionSet([
            new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Allow),
            new Intention(new IntentionSource("admin"), new IntentionDestination("api"), IntentionAction.Allow)]);
        var b = new IntentionSet([
            new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Deny),
            new Intention(new IntentionSource("admin"), new IntentionDestination("api"), IntentionAction.Deny)]);
        var source = new InMemoryIntentionSource(a);
        using var stop = new CancellationTokenSource();
        int inconsistent = 0;
        Task reader = Task.Run(() =>
        {
            var web = new ServiceName("web");
            var admin = new ServiceName("admin");
            var api = new ServiceName("api");
            while (!stop.IsCancellationRequested)
            {
                IntentionSet snapshot = source.Current;
                if (snapshot.Decide(web, api).IsAllowed != snapshot.Decide(admin, api).IsAllowed)
                {
                    Interlocked.Increment(ref inconsistent);
                }
            }
        });

        for (int i = 0; i < 2000; i++)
        {
            source.Set(i % 2 == 0 ? b : a);
        }

        await stop.CancelAsync();
        await reader;
        Assert.That(inconsistent, Is.Zero);
    }
}
