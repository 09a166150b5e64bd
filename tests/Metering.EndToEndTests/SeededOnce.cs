namespace Metering.EndToEndTests;

/// <summary>
/// Data a test class seeds once per run, by whichever of its tests starts first while the others wait. Held in a static
/// field of the class, since xunit makes a new instance for every test; a seed that fails is tried again by the next test.
/// </summary>
public sealed class SeededOnce<T> where T : class
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private T? _data;

    public T Data => _data ?? throw new InvalidOperationException($"{typeof(T).Name} is not seeded: call EnsureAsync first");

    public async Task EnsureAsync(Func<Task<T>> seed)
    {
        await _gate.WaitAsync();
        try
        {
            _data ??= await seed();
        }
        finally
        {
            _gate.Release();
        }
    }
}
