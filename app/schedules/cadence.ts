import { Cron } from "croner";
import { z } from "zod";
import type { Cadence } from "../../db/schema";

export type { Cadence };

export const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const time = z.string({ error: "Enter a time as HH:MM." }).regex(TIME, "Enter a time as HH:MM (24-hour), for example 09:00.");

/** Whether `name` is an IANA time zone this runtime knows (Europe/Berlin, UTC, …). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return /\//.test(name) || name === "UTC";
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string({ error: "Choose a time zone." })
  .refine(isTimeZone, { error: "Choose a time zone by its IANA name, for example Europe/Berlin or UTC." });

function cronOf(cadence: Cadence): string {
  if (cadence.kind === "cron") return cadence.expression;
  const [hour, minute] = cadence.time.split(":").map(Number);
  const day = cadence.kind === "monthly" ? (cadence.dayOfMonth === "last" ? "L" : String(cadence.dayOfMonth)) : "*";
  const weekday = cadence.kind === "weekly" ? String(cadence.weekday) : "*";
  return `${minute} ${hour} ${day} * ${weekday}`;
}

/** croner in 5-field mode: minutes at most; a time that occurs twice runs once, one skipped runs just after the gap. */
function cronFor(cadence: Cadence, timeZone: string): Cron {
  return new Cron(cronOf(cadence), { timezone: timeZone, paused: true, mode: "5-part" });
}

export const cadenceSchema = z
  .discriminatedUnion(
    "kind",
    [
      z.object({ kind: z.literal("daily"), time }),
      z.object({
        kind: z.literal("weekly"),
        weekday: z.coerce.number({ error: "Choose a weekday." }).int().min(0, "Choose a weekday.").max(6, "Choose a weekday."),
        time,
      }),
      z.object({
        kind: z.literal("monthly"),
        dayOfMonth: z.union([z.literal("last"), z.coerce.number().int().min(1).max(28)], {
          error: "Choose a day of the month from 1 to 28, or last.",
        }),
        time,
      }),
      z.object({ kind: z.literal("cron"), expression: z.string({ error: "Enter a cron expression." }).trim().min(1, "Enter a cron expression.") }),
    ],
    { error: "Choose a cadence: daily, weekly, monthly or cron." },
  )
  .superRefine((cadence, ctx) => {
    if (cadence.kind !== "cron") return;
    try {
      cronFor(cadence, "UTC");
    } catch (error) {
      ctx.addIssue({ code: "custom", path: ["expression"], message: `Not a valid cron expression (five fields: minute hour day month weekday): ${(error as Error).message}` });
    }
  });

/** The first slot strictly after `after`, in the schedule's time zone; null if the expression never fires again. */
export function nextSlot(cadence: Cadence, timeZone: string, after: Date): Date | null {
  return cronFor(cadence, timeZone).nextRun(after);
}

/** The slots in (from, to], oldest first, at most `limit` of them. */
export function slotsBetween(cadence: Cadence, timeZone: string, from: Date, to: Date, limit = 1000): Date[] {
  const slots: Date[] = [];
  const cron = cronFor(cadence, timeZone);
  for (let slot = cron.nextRun(from); slot && slot <= to && slots.length < limit; slot = cron.nextRun(slot)) slots.push(slot);
  return slots;
}

/** The slot before `slot`: where a run's data interval starts. */
export function previousSlot(cadence: Cadence, timeZone: string, slot: Date): Date | null {
  return cronFor(cadence, timeZone).previousRuns(1, new Date(slot.getTime() - 1000))[0] ?? null;
}

/** The cadence in words: "Every Monday at 09:00", "Every day at 07:30", "Cron 0 9 * * 1-5". */
export function describeCadence(cadence: Cadence): string {
  switch (cadence.kind) {
    case "daily":
      return `Every day at ${cadence.time}`;
    case "weekly":
      return `Every ${WEEKDAYS[cadence.weekday]} at ${cadence.time}`;
    case "monthly":
      return `Monthly on the ${cadence.dayOfMonth === "last" ? "last day" : ordinal(cadence.dayOfMonth)} at ${cadence.time}`;
    case "cron":
      return `Cron ${cadence.expression}`;
  }
}

function ordinal(n: number): string {
  const suffix = n % 10 === 1 && n !== 11 ? "st" : n % 10 === 2 && n !== 12 ? "nd" : n % 10 === 3 && n !== 13 ? "rd" : "th";
  return `${n}${suffix}`;
}
