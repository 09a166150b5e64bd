using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Metering.Contracts.Usage;
using Metering.Kafka;
using Microsoft.Extensions.Logging;

namespace Metering.Emitter;

/// <summary>
/// Emits usage events straight to Kafka: validated by the same rules as Ingest, gathered for
/// <see cref="UsageEmitterOptions.LingerMs"/> and produced as usage batch v2 records, one per tenant of each flush, through
/// one <see cref="IdempotentProducer"/> (acks=all) as records shaped like Ingest's (<see cref="UsageMessages"/>: keyed by
/// tenant, with the trace context of the batch's first event). Events wait in a bounded buffer until Kafka acknowledges
/// them; a failed delivery is produced again, never dropped. Thread-safe; make one per process and dispose it on
/// shutdown, which flushes the buffer.
/// </summary>
public sealed class UsageEmitter : IAsyncDisposable, IDisposable
{
    public const string ActivitySourceName = "Metering.Emitter";
    private static readonly ActivitySource Source = new(ActivitySourceName);
    internal static readonly Meter Meter = new(ActivitySourceName);
    private static readonly Counter<long> Acknowledged = Meter.CreateCounter<long>("metering.emitter.acknowledged", description: "Usage events Kafka acknowledged");
    private static readonly Counter<long> Reproduced = Meter.CreateCounter<long>("metering.emitter.reproduced", description: "Usage events produced again after a failed delivery");

    private readonly UsageEmitterOptions _options;
    private readonly IdempotentProducer _producer;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentDictionary<long, UsageEvent> _inFlight = new();
    private readonly Acknowledgements _acknowledgements = new();
    private readonly Lock _pendingLock = new();
    private List<Unproduced> _pending = [];
    private readonly Lock _producing = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopFlushing = new();
    private readonly Task _flushing;
    private long _sequence;
    private int _disposed;
    private Error? _fatal;
    private readonly ThrottledTenants? _throttles;

    public UsageEmitter(UsageEmitterOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BufferCapacity, 1);
        _options = options;
        _slots = new SemaphoreSlim(options.BufferCapacity, options.BufferCapacity);
        _producer = new IdempotentProducer(new IdempotentProducerOptions
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = options.ClientId,
            LingerMs = options.LingerMs,
            Compression = options.Compression,
            DeliveryTimeout = options.DeliveryTimeout,
            QueueBufferingMaxMessages = Math.Max(options.BufferCapacity, 1000),
            FlushOnDispose = TimeSpan.FromSeconds(1),
            Configure = options.ConfigureProducer,
            Logger = options.Logger,
        });
        if (options.WatchThrottles) _throttles = new ThrottledTenants(options.BootstrapServers, options.ConfigureConsumer, options.Logger);
        _flushing = Task.Run(FlushLoopAsync);
    }

    /// <summary>
    /// True while Budgets has the tenant throttled (a throttle-enforced limit reached), from a set kept current in
    /// memory: microseconds, no network call. Needs <see cref="UsageEmitterOptions.WatchThrottles"/>.
    /// </summary>
    public bool IsThrottled(string tenant) =>
        (_throttles ?? throw new InvalidOperationException("WatchThrottles is off for this emitter")).IsThrottled(tenant);

    /// <summary>Completes once the throttled set has read every tenant's latest status.</summary>
    public Task ThrottlesCaughtUp => _throttles?.CaughtUp ?? Task.CompletedTask;

    /// <summary>Events emitted and not yet acknowledged by Kafka.</summary>
    public int Pending => _options.BufferCapacity - _slots.CurrentCount;

    /// <summary>
    /// Validates the event, gives it an id if it has none, and puts it in the buffer for Kafka. Returns the event as
    /// emitted (with its id) once it is buffered; <see cref="FlushAsync"/> waits for Kafka's acknowledgement.
    /// </summary>
    /// <exception cref="InvalidUsageException">The event breaks a rule; nothing was emitted.</exception>
    /// <exception cref="UsageBufferFullException">The buffer is full and <see cref="BufferFullBehavior.Throw"/> is configured.</exception>
    public async ValueTask<UsageEvent> EmitAsync(UsageEvent usage, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfFatal();
        if (string.IsNullOrEmpty(usage.Id)) usage = usage with { Id = Guid.CreateVersion7().ToString("N") };
        // The record carries the instant it was validated at as its Kafka timestamp: consumers judge its age by that
        // same instant, so an event accepted here is never too old for them a moment later, or after a retry.
        var validatedAt = _options.Clock.GetUtcNow();
        var errors = UsageEventRules.Validate(usage, validatedAt);
        if (errors.Count > 0) throw new InvalidUsageException(errors);

        if (_options.WhenBufferFull == BufferFullBehavior.Throw)
        {
            if (!_slots.Wait(0)) throw new UsageBufferFullException(_options.BufferCapacity);
        }
        else
        {
            await _slots.WaitAsync(cancellationToken);
        }

        using var activity = Source.StartActivity("usage emit", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.destination.name", _options.Topic);
        activity?.SetTag("metering.tenant", usage.Tenant);
        var sequence = Interlocked.Increment(ref _sequence);
        _inFlight[sequence] = usage;
        var epoch = _acknowledgements.Emitted();
        bool first;
        lock (_pendingLock)
        {
            first = _pending.Count == 0;
            _pending.Add(new Unproduced(sequence, epoch, usage, validatedAt, activity?.Context ?? Activity.Current?.Context ?? default));
        }
        if (first) _wake.Release();
        return usage;
    }

    /// <summary>
    /// Waits until Kafka has acknowledged every event emitted so far (before this call), woken by their delivery reports;
    /// events emitted meanwhile are not waited for.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfFatal();
        var acknowledged = _acknowledgements.Flush();
        ProducePending();
        if (await acknowledged.WaitAsync(cancellationToken)) return;
        ThrowIfFatal();
        throw new ObjectDisposedException(nameof(UsageEmitter), "The emitter was closed before Kafka acknowledged every event; DisposeAsync hands them back.");
    }

    /// <summary>An event emitted and not yet produced: its place, its flush epoch, the instant it was validated at and its caller's trace.</summary>
    private sealed record Unproduced(long Sequence, long Epoch, UsageEvent Usage, DateTimeOffset ValidatedAt, ActivityContext Trace);

    /// <summary>A record produced and not yet acknowledged, and the events it holds (their places and flush epochs).</summary>
    private sealed record Batch(Message<string?, byte[]> Message, long[] Sequences, long[] Epochs);

    /// <summary>Once events are pending, waits <see cref="UsageEmitterOptions.LingerMs"/> and produces all of them.</summary>
    private async Task FlushLoopAsync()
    {
        var stop = _stopFlushing.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(stop);
                if (_options.LingerMs > 0) await Task.Delay(_options.LingerMs, stop);
            }
            catch (OperationCanceledException)
            {
                return; // disposing, which has produced what was pending itself
            }
            try
            {
                ProducePending();
            }
            catch (Exception ex)
            {
                // Events stay in flight and are handed back by DisposeAsync; the loop never dies.
                _options.Logger.LogError(ex, "Producing pending usage failed");
            }
        }
    }

    /// <summary>
    /// Produces the events pending, one usage batch v2 record per tenant (more when they exceed its size bound), each
    /// stamped with the latest instant its events were validated at. An event that instant would judge too old (it was
    /// validated within the last moments of the 62-day window) goes in a record of its own, with its own instant.
    /// </summary>
    private void ProducePending()
    {
        lock (_producing)
        {
            List<Unproduced> pending;
            lock (_pendingLock)
            {
                if (_pending.Count == 0) return;
                pending = _pending;
                _pending = [];
            }
            foreach (var tenant in pending.GroupBy(p => p.Usage.Tenant, StringComparer.Ordinal))
            {
                var stamp = tenant.Max(p => p.ValidatedAt);
                var together = new List<Unproduced>();
                foreach (var p in tenant)
                {
                    if (p.Usage.Timestamp.ToUniversalTime() < stamp - UsageEventRules.MaxAge) ProduceBatch(tenant.Key, [p], p.ValidatedAt);
                    else together.Add(p);
                }
                if (together.Count > 0) ProduceBatch(tenant.Key, together, stamp);
            }
        }
    }

    private void ProduceBatch(string tenant, List<Unproduced> pending, DateTimeOffset stamp)
    {
        UsageEvent[] events = [.. pending.Select(p => p.Usage)];
        var start = 0;
        while (start < events.Length)
        {
            var message = UsageMessages.CreateBatch(tenant, events.AsSpan(start), stamp, pending[start].Trace, out var taken);
            var held = pending.GetRange(start, taken);
            Produce(new Batch(message, [.. held.Select(p => p.Sequence)], [.. held.Select(p => p.Epoch)]));
            start += taken;
        }
    }

    private void Produce(Batch batch)
    {
        if (Volatile.Read(ref _disposed) == 2) return; // given up while closing: reported by DisposeAsync
        try
        {
            _producer.Produce(_options.Topic, batch.Message, report => OnDelivered(report, batch));
        }
        catch (ProduceException<string?, byte[]> ex) when (!ex.Error.IsFatal)
        {
            // librdkafka's own queue is full or the producer is between states: try again shortly.
            ProduceLater(batch);
        }
    }

    private void OnDelivered(DeliveryReport<string?, byte[]> report, Batch batch)
    {
        if (!report.Error.IsError)
        {
            foreach (var sequence in batch.Sequences) _inFlight.TryRemove(sequence, out _);
            Acknowledged.Add(batch.Sequences.Length);
            _slots.Release(batch.Sequences.Length);
            _acknowledgements.Acknowledged(batch.Epochs);
        }
        else if (report.Error.IsFatal)
        {
            // The idempotent producer cannot go on; the events stay in flight and are reported to the caller.
            _fatal = report.Error;
            _acknowledgements.Abandon();
        }
        else
        {
            ProduceLater(batch);
        }
    }

    /// <summary>The same record again, timestamp included: a retried event keeps the instant it was validated at.</summary>
    private void ProduceLater(Batch batch)
    {
        Reproduced.Add(batch.Sequences.Length);
        _ = Task.Delay(_options.RetryBackoff).ContinueWith(_ => Produce(batch), TaskScheduler.Default);
    }

    private void ThrowIfFatal()
    {
        if (_fatal is { } error)
            throw new UsageNotDeliveredException($"The Kafka producer failed fatally ({error.Code}: {error.Reason}); re-emit these events with a new emitter.",
                [.. _inFlight.Values], new KafkaException(error));
    }

    /// <summary>Flushes the buffer, waiting at most <see cref="UsageEmitterOptions.DisposeTimeout"/>.</summary>
    /// <exception cref="UsageNotDeliveredException">Some events were not acknowledged in time; they are in the exception.</exception>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.CompareExchange(ref _disposed, 1, 0) != 0) return;
        using var timeout = new CancellationTokenSource(_options.DisposeTimeout);
        try
        {
            await FlushAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or UsageNotDeliveredException)
        {
            // Reported below with every event still in flight.
        }
        Volatile.Write(ref _disposed, 2);
        _acknowledgements.Abandon();
        await _stopFlushing.CancelAsync();
        await _flushing;
        _stopFlushing.Dispose();
        _producer.Dispose();
        if (_throttles is not null) await _throttles.DisposeAsync();
        if (!_inFlight.IsEmpty)
            throw new UsageNotDeliveredException(
                $"{_inFlight.Count} usage events were not acknowledged by Kafka within {_options.DisposeTimeout}; re-emit them.",
                [.. _inFlight.Values]);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
