namespace Metering.EndToEndTests;

/// <summary>
/// What each of the console's browser test classes shares: a browser of the class's own (<see cref="ConsoleBrowser"/>)
/// and the data it seeds once per run, by whichever of its tests starts first while the others wait. The data is held
/// in a static field (one per <typeparamref name="TSeeded"/>, so per class), since xunit makes a new instance for every
/// test; a seed that fails is tried again by the next test.
/// </summary>
public abstract class SeededBrowserTests<TSeeded> : IClassFixture<ConsoleBrowser>, IAsyncLifetime where TSeeded : class
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static TSeeded? _seeded;

    protected TSeeded Data => _seeded ?? throw new InvalidOperationException($"{typeof(TSeeded).Name} is not seeded: InitializeAsync seeds it");

    protected abstract Task<TSeeded> SeedAsync();

    public async Task InitializeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            _seeded ??= await SeedAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
