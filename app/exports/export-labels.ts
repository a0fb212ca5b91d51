import type { ExportScope } from "../../db/schema";

interface NamedProject {
  id: string;
  name: string;
  apps: { id: string; name: string }[];
}

/**
 * An export's scope in words: "Project Cardio Study", "Apps Watch, Ring",
 * "Entire organization", "Study Sleep-2025, Cohort A, participant P-0042".
 * `names` maps study, cohort and participant ids to their names.
 */
export function scopeLabel(scope: ExportScope, tenantName: string, projects: NamedProject[], names: Record<string, string> = {}): string {
  switch (scope.type) {
    case "tenant":
      return `Tenant ${tenantName}`;
    case "organization":
      return "Entire organization";
    case "project":
      return `Project ${projects.find((p) => p.id === scope.projectId)?.name ?? "(deleted)"}`;
    case "app": {
      const apps = projects.find((p) => p.id === scope.projectId)?.apps ?? [];
      const appNames = scope.appIds.map((id) => apps.find((a) => a.id === id)?.name ?? "(deleted)");
      return `${appNames.length === 1 ? "App" : "Apps"} ${appNames.join(", ")}`;
    }
    case "study": {
      const label = `Study ${names[scope.studyId] ?? "(deleted)"}, ${names[scope.cohortId] ?? "(deleted cohort)"}`;
      return scope.participantId ? `${label}, participant ${names[scope.participantId] ?? "(deleted)"}` : label;
    }
  }
}

const DATA_TYPE_LABELS: Record<string, string> = {
  hsi_records: "HSI records",
  lab_results: "Lab results",
  participants: "Participants",
  metrics: "Metrics",
  integration_connections: "Integration connections",
  dashboards: "Dashboards",
  dashboard_widgets: "Dashboard widgets",
  audit_events: "Audit events",
};

export function dataTypeLabel(dataType: string): string {
  return DATA_TYPE_LABELS[dataType] ?? dataType;
}

