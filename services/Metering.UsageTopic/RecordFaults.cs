using System.Text;
using Npgsql;

namespace Metering.UsageTopic;

/// <summary>
/// Tells a store failure caused by the data of a record — which fails the same way however often it is retried — from
/// one caused by the store itself (connection lost, timeout, lock or serialization conflict, server shutting down), which
/// retrying cures.
/// </summary>
public static class RecordFaults
{
    /// <summary>
    /// PostgreSQL classes 22 (data exception: a value the column cannot hold, such as text with U+0000), 23 (integrity
    /// constraint violation) and 54 (program limit exceeded, such as a value too large for an index), and text the client
    /// cannot encode. Everything else — classes 08, 40, 53, 57, timeouts, Kafka — is not tied to a record.
    /// </summary>
    public static bool IsTiedToRecord(Exception exception) => Find(exception) is not null;

    /// <summary>The error that ties the failure to a record, as a dead-letter reason.</summary>
    public static string Describe(Exception exception) => Find(exception) switch
    {
        PostgresException pg => $"the store refused it: {pg.SqlState} {pg.MessageText}",
        { } other => $"the store refused it: {other.Message}",
        null => $"the store refused it: {exception.Message}",
    };

    private static Exception? Find(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    return pg.SqlState.StartsWith("22", StringComparison.Ordinal) || pg.SqlState.StartsWith("23", StringComparison.Ordinal)
                           || pg.SqlState.StartsWith("54", StringComparison.Ordinal) ? pg : null;
                case EncoderFallbackException or DecoderFallbackException:
                    return e;
            }
        }
        return null;
    }
}
