import { describe, expect, it } from "vitest";
import { copyStatement, DATA_TYPE_SPECS, removedFields } from "../../app/exports/engine/columns.server";

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
