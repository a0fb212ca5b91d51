import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
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
  "data.exports.schedule":         "Y      Y      Y      Y      -      -",
  "org.exports.create":            "Y      Y      -      -      -      -",
  "studies.export":                "Y      Y      Y      Y      -      -",
  "studies.export.full":           "Y      Y      Y      -      -      -",
  "metrics.read":                  "Y      Y      Y      Y      Y      -",
  "metrics.write":                 "Y      Y      Y      Y      -      -",
  "dashboards.read":               "Y      Y      Y      Y      Y      -",
  "api_keys.manage":               "Y      Y      Y      -      -      -",
  "tenants.manage":                "Y      Y      -      -      -      -",
  "members.manage":                "Y      Y      -      -      -      -",
  "projects.manage":               "Y      Y      Y      -      -      -",
  "dashboards.import":             "Y      Y      Y      Y      -      -",
  "dashboards.export":             "Y      Y      Y      Y      -      -",
  "audit.read":                    "Y      Y      Y      -      -      -",
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

// The checks in app/: a route's requireTenant(request, params, "p") and requirePermission(ctx, "p"),
// an API handler's ctx.require("p"), and can(ability, "p") in routes and services.
const CHECKS = /\b(requireTenant|requirePermission|can|authorize|\.require)\(/g;
/** An API endpoint's declared permission, which apiRoute checks. */
const DECLARED = /\bpermission: "([a-z_]+(?:\.[a-z_]+)+)"/g;

/** The permissions named inside the check calls of one source file. */
function checkedIn(source: string): string[] {
  const found = [...source.matchAll(DECLARED)].map((m) => m[1]);
  for (const match of source.matchAll(CHECKS)) {
    // The call's arguments, up to its closing parenthesis.
    let depth = 1;
    let end = match.index + match[0].length;
    for (; end < source.length && depth > 0; end++) depth += source[end] === "(" ? 1 : source[end] === ")" ? -1 : 0;
    const args = source.slice(match.index + match[0].length, end - 1);
    found.push(...[...args.matchAll(/"([a-z_]+(?:\.[a-z_]+)+)"/g)].map((m) => m[1])); // dotted names only
  }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return /\.tsx?$/.test(entry.name) && file !== path.join("app", "auth", "permissions.ts") ? [file] : [];
  });
}

describe("every permission is checked somewhere", () => {
  const checked = new Set(sources("app").flatMap((file) => checkedIn(readFileSync(file, "utf8"))));

  it("finds the checks it looks for", () => {
    expect(checkedIn(`requirePermission(ctx, intent === "cancel" ? "data.exports.cancel" : "data.exports.create"); can(a, "x.y"); authorize(r, "a.b")`)).toEqual([
      "data.exports.cancel", "data.exports.create", "x.y", "a.b",
    ]);
    expect(checkedIn(`GET: { permission: "metrics.read", async handle(ctx) { return f("not.a.check"); } }`)).toEqual(["metrics.read"]);
    expect(checked.size).toBeGreaterThan(10);
  });

  for (const permission of PERMISSIONS) {
    it(`${permission} guards some route or service in app/`, () => {
      expect(checked.has(permission), `nothing in app/ checks ${permission}: check it, or remove it from PERMISSIONS`).toBe(true);
    });
  }
});
