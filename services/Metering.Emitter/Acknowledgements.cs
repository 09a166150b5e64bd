namespace Metering.Emitter;

/// <summary>
/// What each flush waits for: every call to <see cref="Flush"/> closes an epoch and completes once every event emitted
/// in it or before it is acknowledged, not once nothing at all is pending, so that callers emitting and flushing side
/// by side never wait for each other's later events. Thread-safe; no I/O.
/// </summary>
internal sealed class Acknowledgements
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, int> _unacknowledged = []; // epoch → events emitted in it and not acknowledged
    private readonly List<(long Epoch, TaskCompletionSource<bool> Done)> _flushes = [];
    private long _epoch;
    private bool _abandoned;

    /// <summary>Counts one event as emitted; returns its epoch, which <see cref="Acknowledged"/> is given back.</summary>
    public long Emitted()
    {
        lock (_lock)
        {
            _unacknowledged[_epoch] = _unacknowledged.GetValueOrDefault(_epoch) + 1;
            return _epoch;
        }
    }

    /// <summary>Counts the events of these epochs (one entry per event) as acknowledged, and completes the flushes they held.</summary>
    public void Acknowledged(ReadOnlySpan<long> epochs)
    {
        lock (_lock)
        {
            foreach (var epoch in epochs)
            {
                var left = _unacknowledged[epoch] - 1;
                if (left == 0) _unacknowledged.Remove(epoch);
                else _unacknowledged[epoch] = left;
            }
            var oldest = OldestUnacknowledged();
            _flushes.RemoveAll(f =>
            {
                if (f.Epoch >= oldest) return false;
                f.Done.TrySetResult(true);
                return true;
            });
        }
    }

    /// <summary>
    /// Completes with true once every event emitted so far is acknowledged; with false when <see cref="Abandon"/> was
    /// called (the producer failed fatally or the emitter is closed) before that.
    /// </summary>
    public Task<bool> Flush()
    {
        lock (_lock)
        {
            if (_abandoned) return Task.FromResult(false);
            var epoch = _epoch++;
            if (OldestUnacknowledged() > epoch) return Task.FromResult(true);
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushes.Add((epoch, done));
            return done.Task;
        }
    }

    /// <summary>Nothing more will be acknowledged: every flush, waiting or to come, completes with false.</summary>
    public void Abandon()
    {
        lock (_lock)
        {
            _abandoned = true;
            foreach (var (_, done) in _flushes) done.TrySetResult(false);
            _flushes.Clear();
        }
    }

    private long OldestUnacknowledged()
    {
        using var first = _unacknowledged.Keys.GetEnumerator();
        return first.MoveNext() ? first.Current : long.MaxValue;
    }
}
