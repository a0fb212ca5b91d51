import { type Kysely, sql } from "kysely";

// Research studies of a project, their cohorts and the participants enrolled in each.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table study (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null,
      project_id uuid not null,
      name text not null,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, project_id) references project (tenant_id, id) on delete cascade,
      unique (project_id, name),
      unique (tenant_id, id)
    );
    create table cohort (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null,
      study_id uuid not null,
      name text not null,
      created_at timestamptz not null default now(),
      foreign key (tenant_id, study_id) references study (tenant_id, id) on delete cascade,
      unique (study_id, name),
      unique (tenant_id, id)
    );
    create table cohort_member (
      tenant_id uuid not null,
      cohort_id uuid not null,
      participant_id uuid not null,
      enrolled_at timestamptz not null default now(),
      primary key (cohort_id, participant_id),
      foreign key (tenant_id, cohort_id) references cohort (tenant_id, id) on delete cascade,
      foreign key (tenant_id, participant_id) references participant (tenant_id, id) on delete cascade
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table cohort_member, cohort, study`.execute(db);
}
