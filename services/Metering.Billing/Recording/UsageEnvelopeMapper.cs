using System.Security.Cryptography;
using System.Text;
using Confluent.Kafka;
using Metering.Contracts.Usage;
using Wolverine;
using Wolverine.Kafka;
using Wolverine.Util;

namespace Metering.Billing.Recording;

/// <summary>
/// Turns a usage-topic record into a Wolverine envelope. The envelope id is derived from the usage event's own
/// idempotency key (tenant, id), not from the record's position in the log: a Kafka redelivery and an HTTP re-send of
/// the same event are the same envelope to the durable inbox, and a new event at a reused offset (a recreated topic or
/// a restarted development broker) is never mistaken for an old one. Records that break the v1 rules become
/// <see cref="RejectedUsage"/> so that they never block their partition.
/// </summary>
public sealed class UsageEnvelopeMapper(TimeProvider clock) : IKafkaEnvelopeMapper
{
    private static readonly Guid Namespace = new("6f1c1c4e-6c0e-4f8e-9d8e-3b1b8f6f0a51");

    public void MapIncomingToEnvelope(Envelope envelope, Message<string, byte[]> incoming)
    {
        foreach (var header in incoming.Headers ?? [])
            envelope.Headers[header.Key] = Encoding.UTF8.GetString(header.GetValueBytes());
        if (envelope.Headers.TryGetValue("traceparent", out var traceparent)) envelope.ParentId = traceparent;

        var producedAt = incoming.Timestamp.Type == TimestampType.NotAvailable ? clock.GetUtcNow() : new DateTimeOffset(incoming.Timestamp.UtcDateTime);
        var errors = new List<FieldError>();
        var usage = incoming.Value is null ? null : UsageEventJson.Read(incoming.Value, producedAt, errors);
        if (usage is not null)
        {
            envelope.Id = IdOf(usage.Tenant, usage.Id);
            envelope.Message = usage;
            envelope.MessageType = typeof(UsageEvent).ToMessageTypeName();
        }
        else
        {
            if (incoming.Value is null) errors.Add(new("$", "the record has no value"));
            // Redeliveries of the same bad record are one envelope, so it is dead-lettered once.
            envelope.Id = NameBasedId($"rejected/{incoming.Key}/{producedAt.ToUnixTimeMilliseconds()}/{Convert.ToHexString(SHA1.HashData(incoming.Value ?? []))}");
            envelope.Message = new RejectedUsage(incoming.Key, FieldError.Describe(errors), incoming.Value ?? []);
            envelope.MessageType = typeof(RejectedUsage).ToMessageTypeName();
        }
    }

    public void MapEnvelopeToOutgoing(Envelope envelope, Message<string, byte[]> outgoing) =>
        throw new NotSupportedException("Billing only reads the usage topic.");

    /// <summary>The envelope id of a usage event: an RFC 9562 version 5 (SHA-1, name-based) UUID of <c>{tenant}/{id}</c>.</summary>
    public static Guid IdOf(string tenant, string usageId) => NameBasedId($"{tenant}/{usageId}");

    private static Guid NameBasedId(string name)
    {
        Span<byte> space = stackalloc byte[16];
        Namespace.TryWriteBytes(space, bigEndian: true, out _);
        var hash = SHA1.HashData([.. space, .. Encoding.UTF8.GetBytes(name)]);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}

/// <summary>A usage-topic record that is not a valid usage event v1: not counted, reported with its reason.</summary>
public sealed record RejectedUsage(string? Key, string Reason, byte[] Payload);
