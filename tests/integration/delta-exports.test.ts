import pg from "pg";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { databaseUrl, getDb } from "../../db/client";
import { addHsiRecords, addLabResults } from "../../db/seed";
import type { ExportManifest } from "../../db/schema";
import { cancelExport, createExport } from "../../app/exports/exports.server";
import { exportRow, openArchive, runQueuedJobs } from "../setup/exports";
import { requesterFor } from "../setup/routes";
import { createKey, ownerIn } from "../setup/api";

type Requester = Awaited<ReturnType<typeof requesterFor>>;
let owner: Requester;
let stagingOwner: Requester;
const db = () => getDb();

const TYPES = ["hsi_records", "lab_results", "metrics"] as const;
const REQUEST = { scope: { type: "tenant" }, dataTypes: [...TYPES], format: "ndjson", deidentification: "full" } as const;

/** Makes an export (a delta when `since` is given), runs it and returns its id, manifest and each file's rows. */
async function exportNow(requester: Requester, since?: string, request: Record<string, unknown> = REQUEST) {
  const exp = await createExport(db(), requester, { ...request, ...(since && { since: { exportId: since } }) });
  await runQueuedJobs();
  const files = await openArchive(exp.id);
  const rows = (name: string) => (files.get(name)?.toString() ?? "").split("\n").filter(Boolean).map((line) => JSON.parse(line));
  return { id: exp.id, manifest: JSON.parse(files.get("manifest.json")!.toString()) as ExportManifest, rows };
}

const idsOf = (rows: { id: unknown }[]) => rows.map((r) => String(r.id));

/** A second connection with a transaction left open, as a concurrent writer's would be. */
async function openWriter() {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  await client.query("BEGIN");
  return {
    /** Copies one of the tenant's HSI records inside the open transaction; returns the new id. */
    async insertHsi(tenantId: string): Promise<string> {
      const { rows } = await client.query(
        `INSERT INTO hsi_record (tenant_id, project_id, app_id, participant_id, recorded_at, metric, value, unit, payload)
         SELECT tenant_id, project_id, app_id, participant_id, now(), 'steps', 1, 'count', '{}' FROM hsi_record WHERE tenant_id = $1 LIMIT 1
         RETURNING id::text`,
        [tenantId],
      );
      return rows[0].id;
    },
    async commit() {
      await client.query("COMMIT");
      await client.end();
    },
  };
}

async function addMetricPoints(tenantId: string, n: number) {
  await sql`insert into metric_point (tenant_id, project_id, metric_id, metric_name, value, recorded_at, service)
    select ${tenantId}, (select id from project where tenant_id = ${tenantId} order by id limit 1), 'custom.load', 'Load', g, now() - g * interval '1 minute', 'api'
    from generate_series(1, ${n}) g`.execute(db());
}

async function addRows(tenantId: string, n: number) {
  await addHsiRecords(db(), tenantId, n);
  await addLabResults(db(), tenantId, Math.ceil(n / 4));
  await addMetricPoints(tenantId, Math.ceil(n / 8));
}

beforeAll(async () => {
  owner = await requesterFor("owner@acme.test", "production");
  stagingOwner = await ownerIn("staging");
});

describe("a chain of delta exports", () => {
  let chainEnd: string;

  it("holds every row exactly once, also when writers commit out of order around the snapshots", async () => {
    const tenant = owner.tenantId;
    // A transaction that inserted before the full export's snapshot and commits after it.
    const beforeFull = await openWriter();
    const acrossFull = await beforeFull.insertHsi(tenant);
    const full = await exportNow(owner);
    expect(idsOf(full.rows("hsi_records.ndjson"))).not.toContain(acrossFull);
    await beforeFull.commit();

    // A writer takes a lower id, others insert and commit higher ones, the delta's snapshot is taken, and only then does it commit:
    // a watermark on the id (or on the insert time) would skip its row for good.
    const slow = await openWriter();
    const slowId = await slow.insertHsi(tenant);
    await addRows(tenant, 200);
    const d1 = await exportNow(owner, full.id);
    const d1Hsi = idsOf(d1.rows("hsi_records.ndjson"));
    expect(d1Hsi).toContain(acrossFull);
    expect(d1Hsi).not.toContain(slowId);
    expect(Math.max(...d1Hsi.map(Number))).toBeGreaterThan(Number(slowId));
    await addRows(tenant, 100);
    await slow.commit();

    // Another writer open across the second delta's snapshot.
    const slower = await openWriter();
    const slowerId = await slower.insertHsi(tenant);
    const d2 = await exportNow(owner, d1.id);
    expect(idsOf(d2.rows("hsi_records.ndjson"))).toContain(slowId);
    expect(idsOf(d2.rows("hsi_records.ndjson"))).not.toContain(slowerId);
    await addRows(tenant, 50);
    await slower.commit();

    const d3 = await exportNow(owner, d2.id);
    expect(idsOf(d3.rows("hsi_records.ndjson"))).toContain(slowerId);
    const fresh = await exportNow(owner);

    for (const type of TYPES) {
      const name = `${type}.ndjson`;
      const chain = [full, d1, d2, d3].flatMap((e) => idsOf(e.rows(name)));
      expect(chain.length, `${type}: no row twice`).toBe(new Set(chain).size);
      expect([...chain].sort(), `${type}: the chain holds the fresh full export's rows`).toEqual(idsOf(fresh.rows(name)).sort());
      for (const delta of [d1, d2, d3]) expect(delta.rows(name).length, `${type} in each delta`).toBeGreaterThan(0);
    }

    // The manifests say what each delta is: the base's snapshot up to its own, for each data type.
    expect(full.manifest.delta).toBeUndefined();
    expect(full.manifest.snapshot).toMatch(/^\d+:\d+:/);
    expect(d2.manifest.delta).toMatchObject({
      baseExportId: d1.id,
      from: d1.manifest.snapshot,
      fromSnapshotAt: d1.manifest.snapshotAt,
      to: d2.manifest.snapshot,
      toSnapshotAt: d2.manifest.snapshotAt,
      dataTypes: [...TYPES],
      fullDataTypes: [],
    });
    for (const file of d2.manifest.files) expect(file.delta).toMatchObject({ baseExportId: d1.id, from: d1.manifest.snapshot, to: d2.manifest.snapshot });
    expect((await exportRow(d2.id)).since_export_id).toBe(d1.id);
    chainEnd = d3.id;
  });

  it("carries a correction: an updated row appears again, with its current values, in the next delta", async () => {
    const base = await exportNow(owner, chainEnd);
    const { id } = await db().selectFrom("hsi_record").select(sql<string>`id::text`.as("id")).where("tenant_id", "=", owner.tenantId).orderBy("id").executeTakeFirstOrThrow();
    await sql`update hsi_record set value = 4242 where id = ${id}`.execute(db());
    const next = await exportNow(owner, base.id);
    expect(next.rows("hsi_records.ndjson")).toEqual([expect.objectContaining({ id: Number(id), value: 4242 })]);
    expect(next.rows("lab_results.ndjson")).toEqual([]);
    expect(next.rows("metrics.ndjson")).toEqual([]);
    expect(next.manifest.delta?.note).toMatch(/corrected.*current values.*Deleted rows are not carried/s);
  });

  it("holds the audit trail's new events, and the data types without deltas in full, as the manifest says", async () => {
    const request = { scope: { type: "tenant" }, dataTypes: ["audit_events", "integration_connections"], format: "ndjson" };
    const base = await exportNow(owner, undefined, request);
    const delta = await exportNow(owner, base.id, request);
    const baseEvents = idsOf(base.rows("audit_events.ndjson"));
    const deltaEvents = delta.rows("audit_events.ndjson");
    expect(deltaEvents.length).toBeGreaterThan(0);
    expect(deltaEvents.filter((e) => baseEvents.includes(String(e.id)))).toEqual([]);
    // The base's own "done" event was written after its snapshot, so the delta has it.
    expect(deltaEvents.some((e) => e.subject_id === base.id && /done/.test(e.action))).toBe(true);
    expect(delta.rows("integration_connections.ndjson")).toEqual(base.rows("integration_connections.ndjson"));
    expect(delta.manifest.delta).toMatchObject({ dataTypes: ["audit_events"], fullDataTypes: ["integration_connections"] });
    expect(delta.manifest.files.find((f) => f.dataType === "integration_connections")!.delta).toBeUndefined();
  });
});

describe("a de-identified delta", () => {
  it("holds the new rows only, pseudonymized like the base", async () => {
    const request = { scope: { type: "tenant" }, dataTypes: ["hsi_records"], format: "ndjson", deidentification: "deidentified" };
    const base = await exportNow(owner, undefined, request);
    const before = await db().selectFrom("hsi_record").select(sql<string>`max(id)::text`.as("max")).executeTakeFirstOrThrow();
    await addHsiRecords(db(), owner.tenantId, 30);
    const { n } = await db()
      .selectFrom("hsi_record")
      .select(sql<string>`count(*)::text`.as("n"))
      .where("tenant_id", "=", owner.tenantId)
      .where(sql<boolean>`id > ${before.max}::bigint`)
      .executeTakeFirstOrThrow();
    const delta = await exportNow(owner, base.id, request);
    const rows = delta.rows("hsi_records.ndjson");
    expect(rows.length).toBe(Number(n));
    expect(rows.every((r) => !("id" in r) && /^p_[0-9a-f]{24}$/.test(r.participant_id))).toBe(true);
    const known = new Set(base.rows("hsi_records.ndjson").map((r) => r.participant_id));
    expect(rows.some((r) => known.has(r.participant_id))).toBe(true);
  });
});

describe("POST /api/v1/exports with since", () => {
  async function post(key: string, json: unknown) {
    const route = await import("../../app/routes/api.v1.exports");
    const request = new Request("http://localhost:3000/api/v1/exports", {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify(json),
    });
    const res = (await route.action({ request, params: {}, context: {} })) as Response;
    return { status: res.status, body: await res.json() };
  }

  it("refuses a base that is unknown, another tenant's, not done or made differently, naming since.exportId; takes a good one", async () => {
    const key = await createKey("production");
    const request = { scope: { type: "tenant" }, dataTypes: ["lab_results"], format: "csv", deidentification: "full" };
    const base = await exportNow(owner, undefined, request);
    const theirs = await exportNow(stagingOwner, undefined, request);
    const unknown = "00000000-0000-4000-8000-000000000000";

    const answers = {
      unknown: await post(key, { ...request, since: { exportId: unknown } }),
      notAnId: await post(key, { ...request, since: { exportId: "last-week" } }),
      empty: await post(key, { ...request, since: {} }),
      theirs: await post(key, { ...request, since: { exportId: theirs.id } }),
      otherTypes: await post(key, { ...request, dataTypes: ["hsi_records"], since: { exportId: base.id } }),
      otherScope: await post(key, { ...request, scope: { type: "project", projectId: (await db().selectFrom("project").select("id").where("tenant_id", "=", owner.tenantId).executeTakeFirstOrThrow()).id }, since: { exportId: base.id } }),
      otherProfile: await post(key, { ...request, deidentification: "identifiers_removed", since: { exportId: base.id } }),
    };
    for (const [what, res] of Object.entries(answers)) {
      expect(res.status, what).toBe(400);
      expect(Object.keys(res.body.error.details.fields), what).toEqual(["since.exportId"]);
      expect(res.body.error.message, what).toContain("since.exportId");
    }
    // Another tenant's export is answered as if it did not exist.
    expect(answers.theirs.body.error.message.replaceAll(theirs.id, "ID")).toBe(answers.unknown.body.error.message.replaceAll(unknown, "ID"));
    expect(answers.otherTypes.body.error.message).toMatch(/different data types/);
    expect(answers.otherScope.body.error.message).toMatch(/different scope/);
    expect(answers.otherProfile.body.error.message).toMatch(/different de-identification profile/);

    // A base still pending is not one.
    const pending = await createExport(db(), owner, request);
    const notDone = await post(key, { ...request, since: { exportId: pending.id } });
    expect(notDone.status).toBe(400);
    expect(notDone.body.error.details.fields["since.exportId"]).toMatch(/pending/);
    await cancelExport(db(), owner, pending.id);
    // The rest straight to createExport, which the API calls: the API's export tokens are a burst of a few.
    const refusal = (exportId: string) =>
      createExport(db(), owner, { ...request, since: { exportId } }).then(
        () => expect.unreachable(),
        (error) => error.details.fieldErrors["since.exportId"] as string,
      );
    expect(await refusal(pending.id)).toMatch(/cancelled/);

    // An export made before deltas existed has no snapshot to start from.
    const { snapshot } = await exportRow(base.id);
    await db().updateTable("export").set({ snapshot: null }).where("id", "=", base.id).execute();
    expect(await refusal(base.id)).toMatch(/before delta exports/);
    await db().updateTable("export").set({ snapshot }).where("id", "=", base.id).execute();

    // An expired base is a base: its archive is gone, its snapshot is what counts.
    await db().updateTable("export").set({ status: "expired", archive_key: null }).where("id", "=", base.id).execute();

    const accepted = await post(key, { ...request, since: { exportId: base.id } });
    expect(accepted.status).toBe(202);
    expect(accepted.body.since).toEqual({ exportId: base.id });
    await runQueuedJobs();
    expect((await exportRow(accepted.body.id)).status).toBe("done");
  });
});
