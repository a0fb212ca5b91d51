import { describe, expect, it } from "vitest";
import { buildAbility, can, PERMISSIONS, permissionsFor, type OrgRole, type Permission, type TenantRole } from "../../app/auth/permissions";

// The whole role × permission matrix, written out by hand so a change to the
// roles shows up here as a failing row. Y = granted.
const ROLES: [label: string, orgRole: OrgRole, tenantRole: TenantRole | null][] = [
  ["org owner", "owner", null],
  ["org admin", "admin", null],
  ["tenant admin", "member", "admin"],
  ["editor", "member", "editor"],
  ["viewer", "member", "viewer"],
  ["org member, no tenant role", "member", null],
];
//                                  owner  orgAdm tAdmin editor viewer none
const MATRIX: Record<Permission, string> = {
  "data.read":                     "Y      Y      Y      Y      Y      -",
  "members.read":                  "Y      Y      Y      Y      Y      -",
  "data.exports.read":             "Y      Y      Y      Y      Y      -",
  "data.exports.create":           "Y      Y      Y      Y      -      -",
  "data.exports.download":         "Y      Y      Y      Y      -      -",
  "data.exports.cancel":           "Y      Y      Y      Y      -      -",
  "data.exports.schedule":         "Y      Y      Y      -      -      -",
  "org.exports.create":            "Y      Y      -      -      -      -",
  "studies.export":                "Y      Y      Y      Y      -      -",
  "studies.export.full":           "Y      Y      Y      -      -      -",
  "metrics.read":                  "Y      Y      Y      Y      Y      -",
  "metrics.write":                 "Y      Y      Y      Y      -      -",
  "dashboards.read":               "Y      Y      Y      Y      Y      -",
  "api_keys.manage":               "Y      Y      Y      -      -      -",
  "members.manage":                "Y      Y      Y      -      -      -",
  "tenants.manage":                "Y      Y      -      -      -      -",
  "audit.read":                    "Y      Y      Y      -      -      -",
  "dashboards.import":             "Y      Y      Y      Y      -      -",
  "dashboards.export":             "Y      Y      Y      Y      -      -",
};

describe("permission matrix", () => {
  it("covers every permission", () => {
    expect(Object.keys(MATRIX).sort()).toEqual([...PERMISSIONS].sort());
  });

  for (const [permission, row] of Object.entries(MATRIX) as [Permission, string][]) {
    const cells = row.split(/\s+/);
    ROLES.forEach(([label, orgRole, tenantRole], i) => {
      const expected = cells[i] === "Y";
      it(`${label} ${expected ? "may" : "may not"} ${permission}`, () => {
        const ability = buildAbility(permissionsFor(orgRole, tenantRole));
        expect(can(ability, permission)).toBe(expected);
      });
    });
  }

  it("an org owner's tenant role does not narrow what the org role grants", () => {
    expect(permissionsFor("owner", "viewer")).toEqual(permissionsFor("owner", null));
  });
});
