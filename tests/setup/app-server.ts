import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../../db/embedded";

export interface RunningApp {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts the portal the way `npm start` does (server.ts on the built app) against this file's database, or as `env`
 * says; `args` ["--web"] starts it as `npm run web` does, without the worker.
 */
export async function startApp(env: Record<string, string> = {}, args: string[] = []): Promise<RunningApp> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "server.ts", ...args], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", PUBLIC_URL: `http://localhost:${port}`, BETTER_AUTH_URL: `http://localhost:${port}`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!log.includes("Exportal is running at")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the portal did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://localhost:${port}`,
    output: () => log,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
