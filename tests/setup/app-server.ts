import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "../../db/embedded";

export interface RunningApp {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/** The portal's process as `npm start` runs it: the compiled server.ts (`npm run build`), in production mode. */
export const SERVER_COMMAND = [process.execPath, "build/server-start/server.js"] as const;
export const SERVER_ENV = { NODE_ENV: "production" } as const;

/**
 * Starts the portal the way `npm start` does (the compiled server.ts on the built app) against this file's database,
 * or as `env` says; `args` ["--web"] starts it as `npm run web` does, without the worker.
 */
export async function startApp(env: Record<string, string> = {}, args: string[] = []): Promise<RunningApp> {
  const port = await freePort();
  const [command, ...serverArgs] = SERVER_COMMAND;
  const child: ChildProcess = spawn(command, [...serverArgs, ...args], {
    env: { ...process.env, ...SERVER_ENV, PORT: String(port), HOST: "127.0.0.1", PUBLIC_URL: `http://localhost:${port}`, BETTER_AUTH_URL: `http://localhost:${port}`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  // The banner's last line says how to stop it, in either mode; its lines may arrive in separate chunks.
  while (!log.includes("Ctrl-C")) {
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
