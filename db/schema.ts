import type { ColumnType, Generated, Selectable } from "kysely";

/** int8 columns: postgres.js returns them as strings; we write numbers. */
type NullableInt8 = ColumnType<string | null, number | bigint | string | null, number | bigint | string | null>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

// better-auth's tables (their column names are better-auth's own).
export interface UserTable {
  id: string;
  name: string;
  email: string;
  emailVerified: boolean;
  image: string | null;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}
export interface AccountTable {
  id: string;
  accountId: string;
  providerId: string;
  userId: string;
  password: string | null;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}
export interface SessionTable {
  id: string;
  expiresAt: Timestamp;
  token: string;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
  ipAddress: string | null;
  userAgent: string | null;
  userId: string;
  activeOrganizationId: string | null;
}
export interface OrganizationTable {
  id: string;
  name: string;
  slug: string;
  logo: string | null;
  createdAt: Timestamp;
  metadata: string | null;
}
export const ORG_ROLES = ["owner", "admin", "member"] as const;
export type OrgRole = (typeof ORG_ROLES)[number];
export interface MemberTable {
  id: string;
  organizationId: string;
  userId: string;
  role: OrgRole;
  createdAt: Timestamp;
}
/** better-auth's statuses; "canceled" is a revoked invitation. */
export type InvitationStatus = "pending" | "accepted" | "rejected" | "canceled";
export interface InvitationTable {
  id: string;
  organizationId: string;
  email: string;
  role: OrgRole | null;
  status: InvitationStatus;
  expiresAt: Timestamp;
  createdAt: CreatedAt;
  inviterId: string;
  /** Ours: SHA-256 of the link's token (null for an invitation made by better-auth itself). */
  token_hash: string | null;
}

// Ours.
export const TENANT_ROLES = ["admin", "editor", "viewer"] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];
export interface TenantTable {
  id: Generated<string>;
  organization_id: string;
  name: string;
  slug: string;
  created_at: CreatedAt;
  /** API limits; null takes the default. */
  api_requests_per_hour: ColumnType<number | null, number | null | undefined, number | null>;
  api_exports_per_hour: ColumnType<number | null, number | null | undefined, number | null>;
  api_export_burst: ColumnType<number | null, number | null | undefined, number | null>;
  /** Set while the tenant is archived (read-only); null when active. */
  archived_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}
export interface TenantMemberTable {
  tenant_id: string;
  user_id: string;
  role: TenantRole;
  created_at: CreatedAt;
}
/** The role an invitation grants in one tenant. */
export interface InvitationTenantRoleTable {
  invitation_id: string;
  tenant_id: string;
  role: TenantRole;
}
export interface UserPreferenceTable {
  user_id: string;
  tenant_id: string | null;
  updated_at: Generated<Date>;
}
export interface ProjectTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  description: Generated<string>;
  created_at: CreatedAt;
}
export interface AppTable {
  id: Generated<string>;
  tenant_id: string;
  project_id: string;
  name: string;
  platform: string;
  created_at: CreatedAt;
}
export interface ParticipantTable {
  id: Generated<string>;
  tenant_id: string;
  project_id: string;
  external_id: string;
  enrolled_at: Timestamp;
  // Identifying fields: shown and exported in full only to those allowed full data.
  name: ColumnType<string | null, string | null | undefined, string | null>;
  email: ColumnType<string | null, string | null | undefined, string | null>;
  /** A calendar date; postgres.js reads it as midnight UTC. */
  date_of_birth: ColumnType<Date | null, string | null | undefined, string | null>;
  notes: ColumnType<string | null, string | null | undefined, string | null>;
  device_serial: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}
export interface StudyTable {
  id: Generated<string>;
  tenant_id: string;
  project_id: string;
  name: string;
  created_at: CreatedAt;
}
export interface CohortTable {
  id: Generated<string>;
  tenant_id: string;
  study_id: string;
  name: string;
  created_at: CreatedAt;
}
export interface CohortMemberTable {
  tenant_id: string;
  cohort_id: string;
  participant_id: string;
  enrolled_at: Generated<Date>;
}
export interface HsiRecordTable {
  id: ColumnType<string, never, never>;
  tenant_id: string;
  project_id: string;
  app_id: string;
  participant_id: string;
  recorded_at: Timestamp;
  metric: string;
  value: number | null;
  unit: string;
  payload: unknown;
  /** The transaction that inserted (or last corrected) the row, as xid8 text: what delta exports compare (null: written before deltas, in every base). Set by the database only. */
  ingest_xid: IngestXid;
}
export interface LabResultTable {
  id: ColumnType<string, never, never>;
  tenant_id: string;
  project_id: string;
  app_id: string;
  participant_id: string;
  collected_at: Timestamp;
  test_code: string;
  test_name: string;
  value: number | null;
  unit: string;
  reference_low: number | null;
  reference_high: number | null;
  payload: unknown;
  /** The transaction that inserted (or last corrected) the row, as xid8 text: what delta exports compare (null: written before deltas, in every base). Set by the database only. */
  ingest_xid: IngestXid;
}

export const EXPORT_STATUSES = ["pending", "running", "done", "failed", "cancelled", "expired"] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];
/** An export in these statuses holds its projects' locks and may still change. */
export const ACTIVE_EXPORT_STATUSES = ["pending", "running"] as const satisfies readonly ExportStatus[];
/** The file formats an export can hold (app/exports/formats.ts lists them in archive order). */
export type FileFormat = "ndjson" | "csv" | "parquet" | "xlsx";
/** What a request names: one format, `both` (NDJSON + CSV), or a list; what older schedules and manifests hold. */
export type AskedFormat = FileFormat | "both" | FileFormat[];
/** A row's inserting (or correcting) transaction as xid8 text; see db/migrations/20261203_1300_delta_exports.ts. */
type IngestXid = ColumnType<string | null, never, never>;

/** What a delta file holds: the rows its export's snapshot (`to`) sees that its base's (`from`) did not. */
export interface ManifestDelta {
  baseExportId: string | null;
  /** The base's snapshot (pg_snapshot text) and its time. */
  from: string;
  fromSnapshotAt: string | null;
  /** This export's snapshot and its time. */
  to: string;
  toSnapshotAt: string;
}

export interface ExportTable {
  id: Generated<string>;
  tenant_id: string;
  organization_id: string;
  requested_by_user_id: string | null;
  requested_by_api_key_id: ColumnType<string | null, string | null | undefined, string | null>;
  scope: ColumnType<ExportScope, ExportScope, ExportScope>;
  filters: ColumnType<ExportFilters, ExportFilters | undefined, ExportFilters>;
  data_types: string[];
  /** The files each data type gets, in archive order (app/exports/formats.ts). */
  formats: FileFormat[];
  status: Generated<ExportStatus>;
  rows_done: ColumnType<string, number | string | undefined, number | string>;
  rows_expected: NullableInt8;
  archive_key: string | null;
  archive_bytes: NullableInt8;
  manifest: ColumnType<ExportManifest | null, ExportManifest | null, ExportManifest | null>;
  error: string | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  heartbeat_at: Timestamp | null;
  /** Which run owns a running export; a run that lost it (after recovery) stops. */
  run_id: string | null;
  /** When the download link stops working and the archive is removed. */
  expires_at: Timestamp | null;
  /** Exports of participants' rows, in any scope: how identifiers were handled; null for exports without such rows. */
  deidentification: ColumnType<DeidentificationProfile | null, DeidentificationProfile | null | undefined, DeidentificationProfile | null>;
  /** The schedule run that made this export; null for exports people and programs asked for. */
  schedule_run_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The export's snapshot (pg_snapshot text, `xmin:xmax:xip,…`), set when it is published; a later delta's base. */
  snapshot: ColumnType<string | null, string | null | undefined, string | null>;
  /** A delta: the export it holds the changes since (null once that export row is gone; since_snapshot still says it is a delta). */
  since_export_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** A delta: its base's snapshot, copied when the delta was created. Non-null makes an export a delta. */
  since_snapshot: ColumnType<string | null, string | null | undefined, string | null>;
  /** A delta: when its base's snapshot was taken. */
  since_snapshot_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type DeidentificationProfile = "full" | "identifiers_removed" | "deidentified";

export type ExportScope =
  | { type: "tenant" }
  | { type: "project"; projectId: string }
  | { type: "app"; projectId: string; appIds: string[] }
  | { type: "organization" }
  | { type: "study"; studyId: string; cohortId: string; participantId?: string };

/** The date range as asked (preset or dates) and as resolved when the export was created; `to` is exclusive. */
export interface ExportFilters {
  preset?: string;
  from?: string;
  to?: string;
}

/** When a schedule fires, in its time zone; see app/schedules/cadence.ts. */
export type Cadence =
  | { kind: "daily"; time: string }
  | { kind: "weekly"; weekday: number; time: string }
  | { kind: "monthly"; dayOfMonth: number | "last"; time: string }
  | { kind: "cron"; expression: string };
export type ScheduleStatus = "active" | "paused";
export interface ExportScheduleTable {
  id: Generated<string>;
  tenant_id: string;
  organization_id: string;
  /** Whose rights each run is made with; null once that user is deleted (the next run fails and pauses). */
  owner_user_id: string | null;
  name: string;
  /** The export request each run makes (app/schedules/schedule-request.ts), its date range relative to the run. */
  request: ColumnType<ScheduleExportRequest, ScheduleExportRequest, ScheduleExportRequest>;
  cadence: ColumnType<Cadence, Cadence, Cadence>;
  time_zone: string;
  /** Each run exports what changed since the previous successful run. */
  delta: Generated<boolean>;
  status: Generated<ScheduleStatus>;
  paused_reason: string | null;
  failures_in_a_row: Generated<number>;
  /** The next slot to run; null while paused. */
  next_slot_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}
/** An export request as a schedule stores it: the date range is relative to each run. */
export interface ScheduleExportRequest {
  scope: ExportScope;
  dataTypes: string[];
  format: AskedFormat;
  /** The profile asked for; each recipient gets at most what their own rights allow. */
  deidentification?: DeidentificationProfile;
  /** "interval": the run's data interval (previous slot to this one); a preset counts back from the slot. */
  dateRange: { relative: "interval" } | { preset: string };
}
export interface ExportScheduleRecipientTable {
  schedule_id: string;
  user_id: string;
}
export type ScheduleRunKind = "scheduled" | "manual" | "backfill" | "retry";
export type ScheduleRunStatus = "pending" | "running" | "done" | "failed";
export interface ExportScheduleRunTable {
  id: Generated<string>;
  schedule_id: string;
  tenant_id: string;
  kind: ScheduleRunKind;
  /** The slot this run is for: its data interval ends here. */
  slot_at: Timestamp;
  interval_from: Timestamp | null;
  interval_to: Timestamp | null;
  status: Generated<ScheduleRunStatus>;
  error: string | null;
  retry_of: string | null;
  /** The runs of one backfill share it. */
  backfill_id: string | null;
  created_at: CreatedAt;
  finished_at: Timestamp | null;
}

export interface ExportProjectLockTable {
  project_id: string;
  export_id: string;
}

export interface ApiKeyTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  key_prefix: string;
  last4: string;
  key_hash: string;
  permissions: string[];
  created_by_user_id: string | null;
  created_at: CreatedAt;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export type ConnectionStatus = "active" | "error" | "paused" | "disconnected";
export interface IntegrationConnectionTable {
  id: Generated<string>;
  tenant_id: string;
  project_id: string;
  service: string;
  type: "oauth" | "api_key" | "webhook";
  status: ConnectionStatus;
  last_sync_at: Timestamp | null;
  account_info: ColumnType<Record<string, unknown>, Record<string, unknown> | undefined, Record<string, unknown>>;
  configuration: ColumnType<Record<string, unknown>, Record<string, unknown> | undefined, Record<string, unknown>>;
  created_at: CreatedAt;
}
export type CredentialKind = "oauth_access_token" | "oauth_refresh_token" | "api_key" | "webhook_secret" | "encryption_key";
export interface IntegrationCredentialTable {
  id: Generated<string>;
  tenant_id: string;
  connection_id: string;
  kind: CredentialKind;
  ciphertext: Buffer;
  nonce: Buffer;
  auth_tag: Buffer;
  expires_at: Timestamp | null;
  created_at: CreatedAt;
}
export type MetricQuality = "good" | "estimated" | "suspect";
export interface MetricPointTable {
  id: ColumnType<string, never, never>;
  tenant_id: string;
  project_id: string | null;
  connection_id: string | null;
  metric_id: string;
  metric_name: string;
  value: number;
  unit: ColumnType<string, string | undefined, never>;
  recorded_at: ColumnType<Date, Date | string, never>;
  service: string;
  quality: ColumnType<MetricQuality, MetricQuality | undefined, never>;
  metadata: ColumnType<Record<string, unknown>, Record<string, unknown> | undefined, never>;
  created_by_api_key_id: string | null;
  created_at: CreatedAt;
  /** The transaction that inserted (or last corrected) the row, as xid8 text: what delta exports compare (null: written before deltas, in every base). Set by the database only. */
  ingest_xid: IngestXid;
}
export interface DashboardTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  slug: string;
  type: "custom" | "category";
  is_default: Generated<boolean>;
  description: Generated<string>;
  created_by_user_id: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}
export type WidgetType = "metric" | "chart" | "table";
export interface DashboardWidgetTable {
  id: Generated<string>;
  tenant_id: string;
  dashboard_id: string;
  type: WidgetType;
  title: string;
  x: number;
  y: number;
  w: number;
  h: number;
  visible: Generated<boolean>;
  config: ColumnType<Record<string, unknown>, Record<string, unknown> | undefined, Record<string, unknown>>;
  /** Set on import when the widget's metric does not exist in the tenant. */
  import_warning: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

/** Sign-in attempts in the current window, per `account:<email>` and `address:<ip>`. */
export interface SignInAttemptWindowTable {
  key: string;
  attempts: number;
  window_start: Date;
}
export interface ApiRateWindowTable {
  tenant_id: string;
  window_start: Date;
  requests: number;
  /** The size of the block a process last leased: it holds requests - leased + 1 to requests. */
  leased: Generated<number>;
  /** Numbers handed back unused once the window was fully leased, in the order they came back. */
  returned: Generated<number[]>;
  /** How many of `returned` were granted since: the next to grant is returned[returned_taken + 1]. */
  returned_taken: Generated<number>;
}
export interface ApiTokenBucketTable {
  tenant_id: string;
  bucket: string;
  tokens: number;
  refilled_at: Date;
}
export interface ApiIdempotencyKeyTable {
  tenant_id: string;
  /** The key that made the request: only it may replay the stored response. */
  api_key_id: string;
  key: string;
  request_hash: string;
  state: "in_flight" | "done";
  response_status: number | null;
  response_body: unknown;
  created_at: CreatedAt;
}

export interface AuditEventTable {
  id: ColumnType<string, never, never>;
  /** Null for sign-in events, which happen before anyone is known to belong anywhere. */
  organization_id: string | null;
  tenant_id: string | null;
  actor_user_id: string | null;
  actor_api_key_id: ColumnType<string | null, string | null | undefined, never>;
  /** Who, in words, at the time: a person's name or "API key <name>", kept as it was. */
  actor_label: string;
  client_ip: ColumnType<string | null, string | null | undefined, never>;
  user_agent: ColumnType<string | null, string | null | undefined, never>;
  action: string;
  subject_type: string;
  subject_id: string;
  details: ColumnType<Record<string, unknown>, Record<string, unknown> | undefined, never>;
  created_at: CreatedAt;
  /** The transaction that inserted (or last corrected) the row, as xid8 text: what delta exports compare (null: written before deltas, in every base). Set by the database only. */
  ingest_xid: IngestXid;
}

export interface ManifestFile {
  name: string;
  dataType: string;
  /** `json`: a structured file beside the rows, such as `dashboards.json`. */
  format: FileFormat | "json";
  rows: number;
  /** A workbook's sheets in order, each with its rows: past 1,048,575 rows a data type continues on `name (2)`, … */
  sheets?: { name: string; rows: number }[];
  bytes: number;
  sha256: string;
  /** A delta's file of a data type that supports deltas; absent: the file holds every row of its scope. */
  delta?: ManifestDelta;
}
export interface ExportManifest {
  exportId: string;
  tenantId: string;
  scope: ExportScope;
  filters: ExportFilters;
  dataTypes: string[];
  /** The formats as one value, for readers of manifests made before there were more than two: a name, `both`, or the list. */
  format: AskedFormat;
  /** The formats each data type's files come in (absent in manifests made before Parquet and Excel). */
  formats?: FileFormat[];
  snapshotAt: string;
  generator: string;
  files: ManifestFile[];
  /** Exports of participants' rows (HSI, lab, study participants): the profile, the fields it removed and what that means. Never the secret. */
  deidentification?: {
    profile: DeidentificationProfile;
    removedFields: string[];
    note: string;
  };
  /** The export's snapshot (pg_snapshot text): a later delta's `from`. */
  snapshot?: string;
  /** A delta export: its range, which data types hold changes only and which are complete, and how changes are carried. */
  delta?: ManifestDelta & { dataTypes: string[]; fullDataTypes: string[]; note: string };
}

// jsonb columns take plain values: postgres.js serializes them itself, so a
// JSON.stringify'd string would be stored as a JSON string.
export interface Database {
  user: UserTable;
  account: AccountTable;
  session: SessionTable;
  organization: OrganizationTable;
  member: MemberTable;
  invitation: InvitationTable;
  tenant: TenantTable;
  tenant_member: TenantMemberTable;
  invitation_tenant_role: InvitationTenantRoleTable;
  user_preference: UserPreferenceTable;
  project: ProjectTable;
  app: AppTable;
  participant: ParticipantTable;
  study: StudyTable;
  cohort: CohortTable;
  cohort_member: CohortMemberTable;
  hsi_record: HsiRecordTable;
  lab_result: LabResultTable;
  export: ExportTable;
  export_project_lock: ExportProjectLockTable;
  export_schedule: ExportScheduleTable;
  export_schedule_recipient: ExportScheduleRecipientTable;
  export_schedule_run: ExportScheduleRunTable;
  export_schedule_run_variant: ExportScheduleRunVariantTable;
  webhook_endpoint: WebhookEndpointTable;
  delivery_bucket: DeliveryBucketTable;
  export_schedule_webhook: ExportScheduleWebhookTable;
  export_schedule_bucket: ExportScheduleBucketTable;
  delivery: DeliveryTable;
  delivery_attempt: DeliveryAttemptTable;
  audit_event: AuditEventTable;
  api_key: ApiKeyTable;
  integration_connection: IntegrationConnectionTable;
  integration_credential: IntegrationCredentialTable;
  metric_point: MetricPointTable;
  dashboard: DashboardTable;
  dashboard_widget: DashboardWidgetTable;
  api_rate_window: ApiRateWindowTable;
  api_token_bucket: ApiTokenBucketTable;
  api_idempotency_key: ApiIdempotencyKeyTable;
  sign_in_attempt_window: SignInAttemptWindowTable;
}

export type Export = Selectable<ExportTable>;
export type ExportSchedule = Selectable<ExportScheduleTable>;
export type ExportScheduleRun = Selectable<ExportScheduleRunTable>;

/** The archives one schedule run builds, one per distinct variant; see db/migrations/20261203_1100_schedule_run_exports.ts. */
export interface ScheduleRunVariant {
  scope: ExportScope;
  deidentification: DeidentificationProfile | null;
  dataTypes: string[];
}
export interface ExportScheduleRunVariantTable {
  run_id: string;
  /** The order the run builds its archives in. */
  position: number;
  /** variantKey(variant) from app/schedules/owner-rights.server.ts: how delivery finds a recipient's archive. */
  variant_key: string;
  variant: ColumnType<ScheduleRunVariant, ScheduleRunVariant, ScheduleRunVariant>;
  /** The owner's own request, built for the schedule's webhooks and buckets (or when it has no recipients). */
  for_targets: Generated<boolean>;
  /** Null until the run creates this variant's export. */
  export_id: string | null;
}
// Delivery of scheduled runs (app/delivery).
export interface WebhookEndpointTable {
  id: Generated<string>;
  tenant_id: string;
  organization_id: string;
  url: string;
  description: Generated<string>;
  /** The signing secret, sealed (app/analytics/credential-crypto.server.ts): never shown after creation. */
  secret_ciphertext: Buffer;
  secret_nonce: Buffer;
  secret_auth_tag: Buffer;
  created_by_user_id: string | null;
  created_by_api_key_id: ColumnType<string | null, string | null | undefined, string | null>;
  disabled: Generated<boolean>;
  created_at: CreatedAt;
}
export interface DeliveryBucketTable {
  id: Generated<string>;
  tenant_id: string;
  organization_id: string;
  name: string;
  endpoint: string | null;
  region: string;
  bucket: string;
  prefix: Generated<string>;
  force_path_style: Generated<boolean>;
  /** The access key id's last four characters, to recognize it by. */
  access_key_hint: string;
  /** `{accessKeyId, secretAccessKey}` as JSON, sealed. */
  credentials_ciphertext: Buffer;
  credentials_nonce: Buffer;
  credentials_auth_tag: Buffer;
  created_by_user_id: string | null;
  created_at: CreatedAt;
}
export interface ExportScheduleWebhookTable {
  schedule_id: string;
  webhook_id: string;
}
export interface ExportScheduleBucketTable {
  schedule_id: string;
  bucket_id: string;
}
export type DeliveryEvent = "export.completed" | "export.failed" | "ping";
export type DeliveryChannel = "email" | "webhook" | "bucket";
export type DeliveryStatus = "pending" | "sent" | "failed";
export interface DeliveryTable {
  id: Generated<string>;
  tenant_id: string;
  run_id: string | null;
  event: DeliveryEvent;
  channel: DeliveryChannel;
  /** `user:<id>`, `webhook:<id>` or `bucket:<id>`: one delivery per run, event and target. */
  target_key: string;
  user_id: string | null;
  webhook_id: string | null;
  bucket_id: string | null;
  export_id: string | null;
  payload: ColumnType<Record<string, unknown>, Record<string, unknown> | undefined, Record<string, unknown>>;
  status: Generated<DeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: CreatedAt;
  finished_at: Timestamp | null;
}
export interface DeliveryAttemptTable {
  id: ColumnType<string, never, never>;
  delivery_id: string;
  attempted_at: CreatedAt;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}
export type WebhookEndpoint = Selectable<WebhookEndpointTable>;
export type DeliveryBucket = Selectable<DeliveryBucketTable>;
export type Delivery = Selectable<DeliveryTable>;
