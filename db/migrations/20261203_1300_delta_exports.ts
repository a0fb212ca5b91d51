import { type Kysely, sql } from "kysely";

// Delta exports: "the rows recorded since that earlier export".
//
// A watermark on an identity column or on a time has gaps under concurrent
// writes: a transaction that took id 10 (or now() = 12:00:00) may commit
// after another one's id 11 was exported, and a delta from 11 misses it for
// good. Transaction ids with snapshots have no such gap. Each row records the
// transaction that wrote it (ingest_xid, xid8: 64 bits, never wraps), each
// export records its snapshot (export.snapshot, taken in its REPEATABLE READ
// transaction), and a delta holds the rows its snapshot sees that the base's
// did not:
//
//   ingest_xid >= pg_snapshot_xmin(base) AND NOT pg_visible_in_snapshot(ingest_xid, base)
//
// Every committed row version is visible in one export of a chain and
// invisible in the one before it, so a chain covers each row exactly once.
//
// The column is added nullable first (no default), so existing rows stay NULL
// and the ALTER is instant; NULL means "written before delta exports", which
// every base with a snapshot has seen. Then the default makes every insert
// record its transaction. An UPDATE moves the row to the updating transaction,
// so a corrected row appears again, with its current values, in the next
// delta (consumers upsert by id). Deleted rows are not carried by deltas.
//
// The indexes are partial (ingest_xid IS NOT NULL): only a delta's
// `ingest_xid >= …` implies that predicate, so a full export cannot pick them
// and its plans stay as they were; existing rows (NULL) cost nothing.
const TABLES = ["hsi_record", "lab_result", "metric_point", "audit_event"] as const;
// audit_event refuses updates (append-only); metric points change only when a link to a deleted connection or key is cleared.
const UPDATABLE = ["hsi_record", "lab_result", "metric_point"] as const;

export async function up(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) {
    await sql`alter table ${sql.table(table)} add column ingest_xid xid8`.execute(db);
    await sql`alter table ${sql.table(table)} alter column ingest_xid set default pg_current_xact_id()`.execute(db);
  }
  await sql`
    create function exportal_record_ingest_xid() returns trigger language plpgsql as $$
    begin
      new.ingest_xid := pg_current_xact_id();
      return new;
    end $$;
  `.execute(db);
  for (const table of UPDATABLE) {
    await sql`create trigger ${sql.id(`${table}_ingest_xid`)} before update on ${sql.table(table)}
      for each row execute function exportal_record_ingest_xid()`.execute(db);
  }
  await sql`
    create index hsi_record_tenant_ingest_xid_idx on hsi_record (tenant_id, ingest_xid) where ingest_xid is not null;
    create index lab_result_tenant_ingest_xid_idx on lab_result (tenant_id, ingest_xid) where ingest_xid is not null;
    create index metric_point_tenant_ingest_xid_idx on metric_point (tenant_id, ingest_xid) where ingest_xid is not null;
    -- Organization-wide audit exports select by organization or actor, not tenant: the range alone.
    create index audit_event_ingest_xid_idx on audit_event (ingest_xid) where ingest_xid is not null;

    -- The export's snapshot (set when it is published) and, for a delta, its base and the base's snapshot and time,
    -- copied when the delta is created so the delta does not depend on the base row later: since_snapshot, not
    -- since_export_id (set null if the base row goes), is what makes an export a delta.
    alter table export
      add column snapshot pg_snapshot,
      add column since_export_id uuid references export (id) on delete set null,
      add column since_snapshot pg_snapshot,
      add column since_snapshot_at timestamptz;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    alter table export drop column since_snapshot_at, drop column since_snapshot,
      drop column since_export_id, drop column snapshot;
    drop index audit_event_ingest_xid_idx, metric_point_tenant_ingest_xid_idx, lab_result_tenant_ingest_xid_idx, hsi_record_tenant_ingest_xid_idx;
  `.execute(db);
  for (const table of UPDATABLE) await sql`drop trigger ${sql.id(`${table}_ingest_xid`)} on ${sql.table(table)}`.execute(db);
  await sql`drop function exportal_record_ingest_xid()`.execute(db);
  for (const table of TABLES) await sql`alter table ${sql.table(table)} drop column ingest_xid`.execute(db);
}
