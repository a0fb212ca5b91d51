import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { lchown, mkdir, readFile, readdir, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

/** Flags for every Chromium the tests drive. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

/**
 * Launches Chromium with a temporary folder of its own, removed once it is gone: Chromium leaves files
 * (`.org.chromium.Chromium.*`, shared memory) in its TMPDIR when it does not get to clean up.
 */
export async function launchChromium(binary: string, args: string[], timeout?: number): Promise<Browser> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "exportal-browser-tmp-"));
  const gone = () => rmSync(tmp, { recursive: true, force: true });
  try {
    const browser = await chromium.launch({ executablePath: binary, args, timeout, env: { ...process.env, TMPDIR: tmp } });
    browser.on("disconnected", gone);
    return browser;
  } catch (error) {
    gone();
    throw error;
  }
}

/** The Chromium the browser tests drive, as the browser project's global setup found it. */
export interface ChromiumChoice {
  /** The binary, or null when none works; `error` then says why and how to get one. */
  path: string | null;
  args: string[];
  error: string | null;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DEBIAN = "/usr/bin/chromium";

const HOW_TO_GET_ONE =
  "No Chromium for the browser tests. Install Debian's (apt-get install -y chromium), set CHROMIUM_PATH to a Chromium " +
  "binary, or run npm ci so the @sparticuz/chromium fallback is there.";

/** `<binary> --version`, or null when it does not run. */
function versionOf(binary: string): string | null {
  const run = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 30_000 });
  const out = `${run.stdout ?? ""}`.trim();
  return run.status === 0 && /\d+\.\d+/.test(out) ? out : null;
}

/** Gives every file under `dir` to the current user (tar keeps the archive's owners when root unpacks). */
async function ownAll(dir: string): Promise<void> {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined) return;
  await lchown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await ownAll(p);
    else await lchown(p, uid, gid);
  }
}

/**
 * The binary shipped (brotli-compressed) in @sparticuz/chromium, unpacked once into
 * node_modules/.cache/exportal-chromium-<version>/. The package's own executablePath() unpacks into the temp
 * folder on every call, racing with itself across test files; here it runs once, in a child process whose
 * TMPDIR is a fresh staging folder, and the folder is renamed into place only after the binary answers
 * --version. A folder already in place is reused while its binary runs.
 */
export async function packagedChromium(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, "node_modules/@sparticuz/chromium/package.json"), "utf8"));
  const cache = path.join(ROOT, "node_modules/.cache");
  const dir = path.join(cache, `exportal-chromium-${pkg.version}`);
  const binary = path.join(dir, "chromium");
  if (existsSync(dir)) {
    if (versionOf(binary)) return binary;
    await rm(dir, { recursive: true, force: true }); // unusable: unpack it again
  }
  await mkdir(cache, { recursive: true });
  const staging = path.join(cache, `.exportal-chromium-${pkg.version}-${process.pid}-${Date.now()}`);
  await mkdir(staging);
  try {
    execFileSync(
      process.execPath,
      ["--input-type=module", "-e", 'process.stdout.write(await (await import("@sparticuz/chromium")).default.executablePath())'],
      { cwd: ROOT, env: { ...process.env, TMPDIR: staging }, stdio: ["ignore", "pipe", "pipe"] },
    );
    if (!versionOf(path.join(staging, "chromium"))) throw new Error(`the unpacked ${path.join(staging, "chromium")} does not run`);
    await ownAll(staging);
    await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another run unpacked it first: use theirs.
      if (!(error.code === "ENOTEMPTY" || error.code === "EEXIST") || !versionOf(binary)) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return binary;
}

/** Starts `binary` through Playwright and closes it again: proof it can drive it. */
async function launches(binary: string, args: string[]): Promise<void> {
  const browser = await launchChromium(binary, args, 60_000);
  await browser.close();
}

/**
 * The Chromium to drive: CHROMIUM_PATH, else Debian's /usr/bin/chromium, else the binary shipped in the
 * @sparticuz/chromium package (with our flags, not its Lambda defaults; it runs without a zygote). Each is
 * launched once before it is chosen. None working is reported in `error`, for the browser tests to fail
 * with: they never skip.
 */
export async function chooseChromium(): Promise<ChromiumChoice> {
  const configured = process.env.CHROMIUM_PATH;
  try {
    if (configured) {
      if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH points to ${configured}, which does not exist.`);
      await launches(configured, CHROMIUM_FLAGS);
      return { path: configured, args: CHROMIUM_FLAGS, error: null };
    }
    if (existsSync(DEBIAN)) {
      await launches(DEBIAN, CHROMIUM_FLAGS);
      return { path: DEBIAN, args: CHROMIUM_FLAGS, error: null };
    }
    const binary = await packagedChromium();
    const args = [...CHROMIUM_FLAGS, "--no-zygote"];
    await launches(binary, args);
    return { path: binary, args, error: null };
  } catch (error) {
    return { path: null, args: [], error: `${HOW_TO_GET_ONE} (${(error as Error).message})` };
  }
}
