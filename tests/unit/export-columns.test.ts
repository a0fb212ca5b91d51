import { describe, expect, it } from "vitest";
import { DATA_TYPE_SPECS, participantLinked, removedFields, SECRET_KEY_PATTERN, type DataType } from "../../app/exports/engine/columns.server";
import { copyStatement } from "../../app/exports/engine/statements.server";
import { PARTICIPANT_DATA_TYPES } from "../../app/exports/export-request";

const study = {
  tenantId: "11111111-1111-4111-8111-111111111111",
  organizationId: "org",
  scope: { type: "study" as const, studyId: "22222222-2222-4222-8222-222222222222", cohortId: "33333333-3333-4333-8333-333333333333" },
  filters: {},
};

// What each profile's COPY lets out, and that the pseudonym key never leaves as anything but a bind
// value, is checked where it can fail: on the archives the engine writes and the SQL it sends
// (tests/integration/study-deidentification.test.ts), not on the statements' text.
describe("identifying fields are declared beside the column allowlist", () => {
  it("each names an allowlisted column, or a key inside an allowlisted jsonb column", () => {
    for (const [type, spec] of Object.entries(DATA_TYPE_SPECS)) {
      const kinds = new Map<string, string>(spec.columns);
      for (const field of ("identifying" in spec ? spec.identifying : []) as string[]) {
        const [column, ...path] = field.split(".");
        expect(kinds.has(column), `${type}.${field}`).toBe(true);
        if (path.length) expect(kinds.get(column), `${type}.${field}`).toBe("json");
      }
    }
  });

  it("the participants file declares name, email, date of birth, notes and device serial", () => {
    expect(removedFields(["participants"], "identifiers_removed")).toEqual([
      "participants.name", "participants.email", "participants.date_of_birth", "participants.notes", "participants.device_serial",
    ]);
    expect(removedFields(["participants"], "full")).toEqual([]);
  });


  it("the participants file exists only for study scopes", () => {
    expect(() => copyStatement("participants", "csv", { ...study, scope: { type: "tenant" } })).toThrow(/study scopes only/);
  });
});

describe("every scope: the profile decides", () => {
  const tenant = { ...study, scope: { type: "tenant" as const } };

  it("the request's participant data types are the allowlist's types with a participant column", () => {
    const linked = (Object.keys(DATA_TYPE_SPECS) as DataType[]).filter(participantLinked);
    expect(linked).toEqual([...PARTICIPANT_DATA_TYPES, "participants"]);
  });

  it("a de-identified tenant export keys pseudonyms per project and leaves out record ids; full keeps them", () => {
    const deid = copyStatement("hsi_records", "csv", { ...tenant, deidentification: "deidentified" });
    expect(deid).toContain("'project:' || project_id::text AS keyed_by FROM participant");
    expect(deid).not.toContain(`AS "id"`);
    expect(deid).toContain("ORDER BY (recorded_at - deid.offset_days");
    expect(copyStatement("hsi_records", "csv", { ...tenant, deidentification: "full" })).toContain(`AS "id"`);
    expect(copyStatement("metrics", "csv", { ...tenant, deidentification: "deidentified" })).not.toContain("deid");
    expect(removedFields(["hsi_records", "lab_results"], "deidentified")).toEqual([
      "hsi_records.payload.device.serial", "hsi_records.id", "lab_results.payload.lab.accession", "lab_results.id",
    ]);
  });
});

describe("secret-looking JSON keys", () => {
  const secret = new RegExp(SECRET_KEY_PATTERN, "i");
  it("match credentials however they are spelled, and not the data's own keys", () => {
    for (const key of ["token", "accessToken", "refresh_token", "secret", "client_secret", "password", "db_passwd", "apiKey", "api_key", "API-KEY", "privateKey", "Authorization", "cookie", "credentials"]) {
      expect(secret.test(key), key).toBe(true);
    }
    for (const key of ["stage", "device", "firmware", "serial", "confidence", "lab", "accession", "syncIntervalMinutes", "metrics", "lastError", "metricId", "accountName", "login", "keys", "author"]) {
      expect(secret.test(key), key).toBe(false);
    }
  });

  it("pass the LIKE filter that runs before the pattern, in any ASCII case", () => {
    const words = /LIKE ANY \(ARRAY\[([^\]]*)\]\)/.exec(copyStatement("hsi_records", "csv", { ...study, scope: { type: "tenant" } }))![1];
    const filter = words.split(", ").map((w) => w.slice(2, -2));
    for (const key of ["token", "accessToken", "REFRESH_TOKEN", "client_secret", "password", "passphrase", "PWD", "apiKey", "api.key", "API-KEY", "privateKey", "Private Key", "access_key", "Authorization", "cookie", "credentials"]) {
      expect(secret.test(key), key).toBe(true);
      expect(filter.some((word) => key.toLowerCase().includes(word)), key).toBe(true);
    }
  });

  it("are filtered out of every exported JSON column", () => {
    for (const [type, spec] of Object.entries(DATA_TYPE_SPECS) as [DataType, (typeof DATA_TYPE_SPECS)[DataType]][]) {
      for (const [name, kind] of spec.columns as [string, string][]) {
        if (kind !== "json") continue;
        for (const format of ["csv", "ndjson"] as const) {
          expect(copyStatement(type, format, { ...study, scope: { type: "tenant" } }), `${type}.${name}`).toContain(`exportal_jsonb_drop_keys(${name}, '${SECRET_KEY_PATTERN}')`);
        }
      }
    }
  });
});
