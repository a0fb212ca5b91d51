import type { ExportScope } from "../../db/schema";

interface NamedProject {
  id: string;
  name: string;
  apps: { id: string; name: string }[];
}

/** An export's scope in words: "Project Cardio Study", "Apps Watch, Ring", "Entire organization". */
export function scopeLabel(scope: ExportScope, tenantName: string, projects: NamedProject[]): string {
  switch (scope.type) {
    case "tenant":
      return `Tenant ${tenantName}`;
    case "organization":
      return "Entire organization";
    case "project":
      return `Project ${projects.find((p) => p.id === scope.projectId)?.name ?? "(deleted)"}`;
    case "app": {
      const apps = projects.find((p) => p.id === scope.projectId)?.apps ?? [];
      const names = scope.appIds.map((id) => apps.find((a) => a.id === id)?.name ?? "(deleted)");
      return `${names.length === 1 ? "App" : "Apps"} ${names.join(", ")}`;
    }
  }
}

const DATA_TYPE_LABELS: Record<string, string> = { hsi_records: "HSI records", lab_results: "Lab results" };

export function dataTypeLabel(dataType: string): string {
  return DATA_TYPE_LABELS[dataType] ?? dataType;
}

export function formatLabel(format: string): string {
  return format === "both" ? "NDJSON + CSV" : format.toUpperCase();
}
