import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table export
      add column organization_id text references "organization" (id) on delete cascade,
      add column filters jsonb not null default '{}'::jsonb,
      add column heartbeat_at timestamptz,
      add column run_id uuid,
      add column expires_at timestamptz;
    create index export_expires_idx on export (expires_at) where status = 'done';
    create index export_running_idx on export (heartbeat_at) where status = 'running';
    update export set organization_id = t.organization_id from tenant t where t.id = export.tenant_id;
    alter table export alter column organization_id set not null;

    -- One row per project an active export covers. The primary key is the
    -- one-active-export-per-project rule: a second export covering the same
    -- project cannot insert its row until the first one leaves pending/running.
    create table export_project_lock (
      project_id uuid primary key references project (id) on delete cascade,
      export_id uuid not null references export (id) on delete cascade
    );
    create index export_project_lock_export_idx on export_project_lock (export_id);

    create function export_release_locks() returns trigger language plpgsql as $$
    begin
      delete from export_project_lock where export_id = new.id;
      return new;
    end $$;
    create trigger export_release_locks after update of status on export
      for each row when (new.status not in ('pending', 'running'))
      execute function export_release_locks();

    -- Neutralizes spreadsheet formulas in CSV cells (OWASP CSV injection).
    create function exportal_csv_safe(t text) returns text language sql immutable parallel safe as $$
      select case when t ~ '^[=+\\-@\\t\\r]' then '''' || t else t end
    $$;

    -- Append-only record of what happened to exports; it outlives the exports themselves.
    create table audit_event (
      id bigint generated always as identity primary key,
      organization_id text not null,
      tenant_id uuid not null,
      actor_user_id text,
      actor_label text not null,
      action text not null,
      subject_type text not null,
      subject_id text not null,
      details jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default now()
    );
    create index audit_event_subject_idx on audit_event (subject_type, subject_id, created_at);
    create index audit_event_tenant_idx on audit_event (tenant_id, created_at desc);

    create function audit_event_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_event is append-only';
    end $$;
    create trigger audit_event_append_only before update or delete on audit_event
      for each statement execute function audit_event_append_only();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop table audit_event;
    drop function audit_event_append_only;
    drop function exportal_csv_safe;
    drop table export_project_lock;
    drop trigger export_release_locks on export;
    drop function export_release_locks;
    alter table export drop column organization_id, drop column filters, drop column heartbeat_at, drop column run_id, drop column expires_at;
  `.execute(db);
}
