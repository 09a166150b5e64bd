using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Metering.Billing;

/// <summary>
/// A table filled by <paramref name="backfill"/> when it is created, so a store written before the table existed has it
/// complete after <c>migrate</c>, without a rebuild (the spend tenant month rollup, the invoice marks).
/// </summary>
internal sealed class BackfilledTable(PostgresqlObjectName name, string backfill) : Table(name)
{
    public override void WriteCreateStatement(Weasel.Core.Migrator migrator, TextWriter writer)
    {
        base.WriteCreateStatement(migrator, writer);
        writer.WriteLine(backfill);
    }
}
