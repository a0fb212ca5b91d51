import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { dataDir } from "../../lib/config.server";
import { s3Storage, s3ConfigFromEnv } from "./s3-storage.server";

/**
 * Where archives live. Writers get a temporary file (or an unfinished
 * multipart upload) that becomes visible under its key only once complete,
 * so no reader ever sees a partial archive.
 */
export interface ArchiveStorage {
  /** Runs `write` against a temporary file or upload, then publishes it under `key`. Returns its size. */
  put(key: string, write: (out: Writable) => Promise<void>): Promise<number>;
  size(key: string): Promise<number | null>;
  read(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /**
   * A short-lived URL that serves the archive itself, Range requests included,
   * for storages the portal should not stream through; absent when it does.
   */
  downloadUrl?(key: string, filename: string): Promise<string>;
  remove(key: string): Promise<void>;
  /** Deletes unfinished writes (of a killed worker) whose key starts with `prefix`. */
  discardPartials(prefix: string): Promise<number>;
}

/** The archive storage failed or could not be reached while an archive was written. */
export class StorageFailure extends Error {
  constructor(cause: unknown) {
    super(`archive storage: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

function safeKey(key: string): string {
  if (!/^[a-z0-9/_.-]+$/i.test(key) || key.includes("..")) throw new Error(`invalid storage key ${key}`);
  return key;
}

/**
 * Creates `dir` and every folder from `root` down to it for the portal's user
 * alone (0700), and tightens such folders it owns that an older version made
 * 0755. Existing folders above `root` are left as they are.
 */
async function privateDir(root: string, dir: string): Promise<void> {
  const parts = path.relative(root, dir).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const level = path.join(root, ...parts.slice(0, i));
    await mkdir(level, { recursive: true, mode: 0o700 });
    const { mode, uid } = await stat(level);
    if (mode & 0o077 && uid === process.getuid?.()) await chmod(level, 0o700);
  }
}

/** Archives hold people's data: files 0600 in 0700 folders, readable by the portal's user only. */
export function localStorage(root: string): ArchiveStorage {
  const file = (key: string) => path.join(root, safeKey(key));
  return {
    async put(key, write) {
      const final = file(key);
      const temp = `${final}.partial-${randomBytes(6).toString("hex")}`;
      await privateDir(root, path.dirname(final));
      const out = createWriteStream(temp, { mode: 0o600 });
      try {
        await write(out);
        if (!out.writableFinished) await finished(out);
        const handle = await open(temp, "r");
        await handle.sync();
        await handle.close();
        await rename(temp, final);
      } catch (error) {
        out.destroy();
        await rm(temp, { force: true });
        throw error;
      }
      return (await stat(final)).size;
    },
    async size(key) {
      const s = await stat(file(key)).catch(() => null);
      return s ? s.size : null;
    },
    async read(key, range) {
      return createReadStream(file(key), range);
    },
    async remove(key) {
      await rm(file(key), { force: true });
    },
    async discardPartials(prefix) {
      const base = file(prefix);
      const names = await readdir(path.dirname(base)).catch(() => [] as string[]);
      const partials = names.filter((n) => n.startsWith(path.basename(base)) && n.includes(".partial-"));
      await Promise.all(partials.map((n) => rm(path.join(path.dirname(base), n), { force: true })));
      return partials.length;
    },
  };
}

let current: ArchiveStorage | undefined;

/** The configured storage: an S3 bucket when EXPORTAL_S3_BUCKET is set, else a local directory under the data directory. */
export function getStorage(): ArchiveStorage {
  const s3 = s3ConfigFromEnv();
  current ??= s3 ? s3Storage(s3) : localStorage(process.env.EXPORTAL_ARCHIVE_DIR ?? path.join(dataDir(), "archives"));
  return current;
}
