import { describe, expect, it } from "vitest";
import { DATA_TYPE_SPECS, DELTA_DATA_TYPES, type DataType } from "../../app/exports/engine/columns.server";
import { countStatement, copyStatement, deltaCondition } from "../../app/exports/engine/statements.server";

const tenant = { tenantId: "11111111-1111-4111-8111-111111111111", organizationId: "org", scope: { type: "tenant" as const }, filters: {} };

describe("a delta's condition", () => {
  it("bounds the range by the base's xmin and leaves out what the base saw", () => {
    expect(deltaCondition("1200:1210:1201,1205")).toBe(
      "ingest_xid >= '1200'::xid8 AND NOT pg_visible_in_snapshot(ingest_xid, '1200:1210:1201,1205'::pg_snapshot)",
    );
    expect(deltaCondition("965:965:")).toContain("'965:965:'::pg_snapshot");
  });

  it("writes nothing but a snapshot into the SQL (COPY takes no bind parameters)", () => {
    for (const bad of ["", "1:2", "1:2:3;", "1:2:'); drop table hsi_record; --", "a:b:", "1:2:3,"]) {
      expect(() => deltaCondition(bad), bad).toThrow(/not a snapshot/);
    }
  });

  it("applies to the delta data types only; full exports and the other types are as before", () => {
    const since = { ...tenant, sinceSnapshot: "10:20:" };
    for (const type of Object.keys(DATA_TYPE_SPECS) as DataType[]) {
      if (type === "participants") continue;
      const scope = ["dashboards", "dashboard_widgets"].includes(type) ? tenant : since;
      expect(countStatement(type, scope).includes("pg_visible_in_snapshot"), type).toBe(DELTA_DATA_TYPES.includes(type) && scope === since);
      expect(copyStatement(type, "csv", tenant)).not.toContain("pg_visible_in_snapshot");
    }
    expect(copyStatement("hsi_records", "ndjson", { ...since, deidentification: "deidentified" })).toContain("NOT pg_visible_in_snapshot(ingest_xid, '10:20:'");
  });
});
