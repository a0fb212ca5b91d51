import { Logger } from "graphile-worker";

/** graphile-worker logs every poll at debug level; keep warnings and errors. */
export const quietLogger = new Logger(() => (level, message) => {
  if (String(level) === "error" || String(level) === "warning") console.error(`[worker] ${message}`);
});
