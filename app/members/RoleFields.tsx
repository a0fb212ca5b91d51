import { FieldError } from "~/components/FieldError";
import type { OrgRole } from "../../db/schema";

export const ORG_ROLE_LABELS: Record<OrgRole, string> = { owner: "Owner", admin: "Admin", member: "Member" };
export const TENANT_ROLE_LABELS: Record<string, string> = { admin: "Admin", editor: "Editor", viewer: "Viewer", none: "No access" };

/** The organization roles someone may give: only owners make owners. */
export function grantableOrgRoles(actorRole: OrgRole): OrgRole[] {
  return actorRole === "owner" ? ["member", "admin", "owner"] : ["member", "admin"];
}

/**
 * The role fields of the invite and change-roles forms: the organization role,
 * and one select per tenant of the organization (`tenant.<id>`). `idPrefix`
 * keeps ids unique when several forms are on the page.
 */
export function RoleFields(props: {
  idPrefix: string;
  orgRoles: OrgRole[];
  orgRole: string;
  tenants: { id: string; name: string }[];
  tenantRoles: Record<string, string>;
  errors: Record<string, string>;
}) {
  const { idPrefix, orgRoles, orgRole, tenants, tenantRoles, errors } = props;
  return (
    <>
      <div className="field">
        <label htmlFor={`${idPrefix}-role`}>Organization role</label>
        <select id={`${idPrefix}-role`} name="role" defaultValue={orgRole} aria-invalid={!!errors.role} aria-describedby={errors.role ? `${idPrefix}-role-error` : `${idPrefix}-role-help`}>
          {orgRoles.map((r) => (
            <option key={r} value={r}>{ORG_ROLE_LABELS[r]}</option>
          ))}
        </select>
        <p className="muted small" id={`${idPrefix}-role-help`}>Organization owners and admins act as admins in every tenant.</p>
        <FieldError id={`${idPrefix}-role-error`} message={errors.role} />
      </div>
      <fieldset className="field tenant-roles">
        <legend>Tenants</legend>
        {tenants.map((t) => {
          const name = `tenant.${t.id}`;
          const id = `${idPrefix}-tenant-${t.id}`;
          return (
            <div key={t.id} className="tenant-role">
              <label htmlFor={id}>Role in {t.name}</label>
              <select id={id} name={name} defaultValue={tenantRoles[t.id] ?? "none"} aria-invalid={!!errors[name]} aria-describedby={errors[name] ? `${id}-error` : undefined}>
                {["admin", "editor", "viewer", "none"].map((r) => (
                  <option key={r} value={r}>{TENANT_ROLE_LABELS[r]}</option>
                ))}
              </select>
              <FieldError id={`${id}-error`} message={errors[name]} />
            </div>
          );
        })}
        <FieldError id={`${idPrefix}-tenants-error`} message={errors.tenants} />
      </fieldset>
    </>
  );
}
