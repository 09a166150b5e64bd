using System.Text;
using Metering.UsageTopic;
using Npgsql;

namespace Metering.UnitTests;

/// <summary>Which store failures split a batch to find a record (data errors) and which retry it (the store's own trouble).</summary>
public sealed class RecordFaultsTests
{
    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);

    [Theory]
    [InlineData("22021")] // character_not_in_repertoire: text with U+0000
    [InlineData("22P05")] // untranslatable_character: \u0000 in jsonb
    [InlineData("22003")] // numeric_value_out_of_range
    [InlineData("23505")] // unique_violation
    [InlineData("23514")] // check_violation
    [InlineData("54000")] // program_limit_exceeded: a value too large for an index
    public void Data_errors_are_tied_to_a_record(string sqlState)
    {
        Assert.True(RecordFaults.IsTiedToRecord(Postgres(sqlState)));
        // Wrapped, as Marten and the consumer's own timeouts wrap them.
        Assert.True(RecordFaults.IsTiedToRecord(new InvalidOperationException("outer", Postgres(sqlState))));
        Assert.StartsWith($"the store refused it: {sqlState} ", RecordFaults.Describe(new InvalidOperationException("outer", Postgres(sqlState))));
    }

    [Theory]
    [InlineData("08006")] // connection_failure
    [InlineData("40001")] // serialization_failure
    [InlineData("40P01")] // deadlock_detected
    [InlineData("53300")] // too_many_connections
    [InlineData("55P03")] // lock_not_available (lock_timeout)
    [InlineData("57014")] // query_canceled (statement timeout)
    [InlineData("57P01")] // admin_shutdown
    public void The_stores_own_trouble_is_not(string sqlState) => Assert.False(RecordFaults.IsTiedToRecord(Postgres(sqlState)));

    [Fact]
    public void Connection_losses_timeouts_and_cancellations_are_not_but_text_the_client_cannot_encode_is()
    {
        Assert.False(RecordFaults.IsTiedToRecord(new NpgsqlException("Exception while reading from stream", new IOException("connection reset"))));
        Assert.False(RecordFaults.IsTiedToRecord(new TimeoutException("Storing a batch took longer than 60 s")));
        Assert.False(RecordFaults.IsTiedToRecord(new OperationCanceledException()));
        Assert.True(RecordFaults.IsTiedToRecord(new NpgsqlException("writing", new EncoderFallbackException("lone surrogate"))));
    }
}
