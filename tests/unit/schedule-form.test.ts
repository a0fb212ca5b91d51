import { describe, expect, it } from "vitest";
import { scheduleInputSchema } from "../../app/schedules/schedule-input";
import { requestErrors, scheduleFormValues, scheduleInputFromForm, submittedScheduleValues, type ScheduleFormValues } from "../../app/schedules/schedule-form";

/** The form a browser would send for these values. */
function formOf(values: ScheduleFormValues): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(values)) {
    if (key === "delta") {
      if (value) form.append("delta", "on");
    } else if (Array.isArray(value)) for (const v of value) form.append(key, v);
    else if (value !== undefined) form.append(key, String(value));
  }
  form.append("dataTypesShown", "1");
  form.append("formatsShown", "1");
  return form;
}

describe("the schedule form", () => {
  it("reads each cadence, the date range and the delivery lists into a valid schedule", () => {
    const form = new FormData();
    for (const [k, v] of [["name", "Weekly"], ["scope", "project"], ["projectId", "p1"], ["dataTypesShown", "1"], ["dataTypes", "lab_results"], ["formatsShown", "1"], ["format", "ndjson"], ["format", "parquet"],
      ["range", "last_30_days"], ["cadenceKind", "monthly"], ["dayOfMonth", "last"], ["weekday", "3"], ["time", "07:30"], ["timeZone", "Europe/Berlin"], ["delta", "on"],
      ["recipients", "u1"], ["recipients", "u2"], ["webhookIds", "w1"]]) form.append(k, v);
    const parsed = scheduleInputSchema.parse(scheduleInputFromForm(form));
    expect(parsed).toMatchObject({
      name: "Weekly",
      request: { scope: { type: "project", projectId: "p1" }, dataTypes: ["lab_results"], format: ["ndjson", "parquet"], dateRange: { preset: "last_30_days" } },
      cadence: { kind: "monthly", dayOfMonth: "last", time: "07:30" },
      timeZone: "Europe/Berlin",
      delta: true,
      recipients: ["u1", "u2"],
      webhookIds: ["w1"],
      bucketIds: [],
    });
    // No format ticked is an error, not the default; a form from before the checkboxes sends one value.
    form.delete("format");
    expect(scheduleInputSchema.safeParse(scheduleInputFromForm(form)).error?.issues[0]).toMatchObject({ path: ["request", "format"], message: "Choose at least one format." });
    form.delete("formatsShown");
    form.set("format", "both");
    expect(scheduleInputSchema.parse(scheduleInputFromForm(form)).request.format).toEqual(["ndjson", "csv"]);
    form.set("cadenceKind", "cron");
    form.set("expression", "0 9 * * 1-5");
    form.set("range", "interval");
    expect(scheduleInputSchema.parse(scheduleInputFromForm(form))).toMatchObject({ cadence: { kind: "cron", expression: "0 9 * * 1-5" }, request: { dateRange: { relative: "interval" } } });
  });

  it("fills the edit form from a saved schedule so that saving it unchanged gives the same schedule", () => {
    const saved = {
      name: "Nightly", time_zone: "America/New_York", delta: false,
      request: { scope: { type: "app" as const, projectId: "p1", appIds: ["a1", "a2"] }, dataTypes: ["hsi_records"], format: ["ndjson" as const, "xlsx" as const], deidentification: "deidentified" as const, dateRange: { relative: "interval" as const } },
      cadence: { kind: "weekly" as const, weekday: 5, time: "23:15" },
      recipients: [{ userId: "u1" }], webhookIds: [], bucketIds: ["b1"],
    };
    const values = scheduleFormValues(saved);
    const again = scheduleInputSchema.parse(scheduleInputFromForm(formOf(values)));
    expect(again).toMatchObject({ name: "Nightly", request: saved.request, cadence: saved.cadence, timeZone: "America/New_York", delta: false, recipients: ["u1"], bucketIds: ["b1"] });
    expect(submittedScheduleValues(formOf(values))).toMatchObject({ ...values, deidentification: "deidentified" });
  });

  it("hands the export fields their errors under the names they know", () => {
    expect(requestErrors({ "request.dataTypes": "Choose", "request.scope.projectId": "Pick", name: "Name it" })).toEqual({ dataTypes: "Choose", "scope.projectId": "Pick" });
  });
});
