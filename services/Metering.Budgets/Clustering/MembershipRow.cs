using NpgsqlTypes;

namespace Metering.Budgets.Clustering;

/// <summary>How a <see cref="MembershipEntry"/> maps to a row of <see cref="MembershipSchema.Silos"/>.</summary>
internal static class MembershipRow
{
    /// <summary>Adds every column of the row as a parameter of the same name.</summary>
    public static void AddParameters(NpgsqlCommand command, MembershipEntry entry, string etag)
    {
        var suspicions = entry.SuspectTimes ?? [];
        var parameters = command.Parameters;
        parameters.AddWithValue("silo", entry.SiloAddress.ToParsableString());
        parameters.AddWithValue("status", entry.Status.ToString());
        parameters.Add(new NpgsqlParameter("suspecting_silos", NpgsqlDbType.Array | NpgsqlDbType.Text)
        {
            Value = suspicions.Select(s => s.Item1.ToParsableString()).ToArray(),
        });
        parameters.Add(new NpgsqlParameter("suspect_times", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
        {
            Value = suspicions.Select(s => Utc(s.Item2)).ToArray(),
        });
        parameters.AddWithValue("proxy_port", entry.ProxyPort);
        // Orleans declares the host and silo names non-null; the role name may be missing.
        parameters.AddWithValue("host_name", entry.HostName ?? "");
        parameters.AddWithValue("silo_name", entry.SiloName ?? "");
        parameters.Add(new NpgsqlParameter("role_name", NpgsqlDbType.Text) { Value = (object?)entry.RoleName ?? DBNull.Value });
        parameters.AddWithValue("update_zone", entry.UpdateZone);
        parameters.AddWithValue("fault_zone", entry.FaultZone);
        parameters.AddWithValue("start_time", Utc(entry.StartTime));
        parameters.AddWithValue("i_am_alive_time", Utc(entry.IAmAliveTime));
        parameters.AddWithValue("etag", etag);
    }

    /// <summary>Reads the entry and its etag from the columns in <see cref="PostgresMembershipTable"/>'s order.</summary>
    public static Tuple<MembershipEntry, string> Read(NpgsqlDataReader reader, int firstColumn)
    {
        var column = firstColumn;
        var silo = SiloAddress.FromParsableString(reader.GetString(column++));
        var status = Enum.Parse<SiloStatus>(reader.GetString(column++));
        var suspectingSilos = reader.GetFieldValue<string[]>(column++);
        var suspectTimes = reader.GetFieldValue<DateTime[]>(column++);
        var entry = new MembershipEntry
        {
            SiloAddress = silo,
            Status = status,
            SuspectTimes = suspectingSilos.Zip(suspectTimes, (s, t) => Tuple.Create(SiloAddress.FromParsableString(s), t)).ToList(),
            ProxyPort = reader.GetInt32(column++),
            HostName = reader.GetString(column++),
            SiloName = reader.GetString(column++),
            RoleName = NullableString(reader, column++),
            UpdateZone = reader.GetInt32(column++),
            FaultZone = reader.GetInt32(column++),
            StartTime = reader.GetDateTime(column++),
            IAmAliveTime = reader.GetDateTime(column++),
        };
        return Tuple.Create(entry, reader.GetString(column));
    }

    /// <summary>
    /// Orleans keeps UTC times, but an unset one (<c>default</c>) has an unspecified kind, which Npgsql refuses for
    /// <c>timestamptz</c>.
    /// </summary>
    public static DateTime Utc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Utc => time,
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };

    private static string? NullableString(NpgsqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);
}
