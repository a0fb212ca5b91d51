import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { apiExport } from "../../app/api/schemas";
import { startApp, type RunningApp } from "../setup/app-server";
import { ALL_KEY_PERMISSIONS, apiClient, createKey, tenantBySlug } from "../setup/api";
import { holdTable } from "../setup/exports";
import { readZip } from "../setup/zip";

// Production's shape on one machine: two web processes (`npm run web`) and two worker processes
// (`npm run worker`) on one PostgreSQL, the load balancer being whichever web process a request goes to.
let webA: RunningApp;
let webB: RunningApp;
const workers: ChildProcess[] = [];
let key: string;

function startWorkerProcess() {
  const child = spawn(process.execPath, ["--import", "tsx", "worker/cli.ts"], { env: { ...process.env, WORKER_CONCURRENCY: "1" }, stdio: "ignore" });
  workers.push(child);
}

beforeAll(async () => {
  webA = await startApp({}, ["--web"]);
  webB = await startApp({}, ["--web"]);
  key = await createKey("production", ALL_KEY_PERMISSIONS, { name: "scale-out" });
  await getDb().updateTable("tenant").set({ api_requests_per_hour: 100_000 }).where("slug", "=", "production").execute();
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.filter((w) => w.exitCode === null).map((w) => new Promise((resolve) => {
    w.once("exit", resolve);
    w.kill("SIGTERM");
  })));
  await Promise.all([webA?.stop(), webB?.stop()]);
});

async function projectId(name: string) {
  const t = await tenantBySlug("production");
  return (await getDb().selectFrom("project").select("id").where("tenant_id", "=", t.id).where("name", "=", name).executeTakeFirstOrThrow()).id;
}

describe("two web and two worker processes on one database", () => {
  it("run an export created through one web process and serve it through the other; one export per project holds across both", { timeout: 120_000 }, async () => {
    const viaA = apiClient(webA.url);
    const viaB = apiClient(webB.url);
    const projects = await getDb().selectFrom("project").innerJoin("tenant as t", "t.id", "project.tenant_id").where("t.slug", "=", "production").select("project.name").orderBy("project.name").execute();
    const project = await projectId(projects[0].name);
    const body = { scope: { type: "project", projectId: project }, dataTypes: ["hsi_records"], format: "csv" };

    // No worker yet: the web processes run none themselves, and the export waits first in line.
    const created = await viaA("/api/v1/exports", { key, method: "POST", json: body });
    expect(created.status).toBe(202);
    const id = apiExport.parse(created.body).id;
    await new Promise((r) => setTimeout(r, 2500));
    const waiting = await viaB(`/api/v1/exports/${id}`, { key });
    expect(waiting.body).toMatchObject({ status: "pending", queuePosition: 1 });

    // The same project through the other web process: refused by the database's rule, not a process's memory.
    const second = await viaB("/api/v1/exports", { key, method: "POST", json: body });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("CONFLICT");

    // Hold the export once a worker has it, to see it leave the line.
    const release = await holdTable("hsi_record");
    try {
      startWorkerProcess();
      startWorkerProcess();
      await expect.poll(async () => (await viaA(`/api/v1/exports/${id}`, { key })).body.status, { timeout: 30_000, interval: 200 }).toBe("running");
      const running = await viaB(`/api/v1/exports/${id}`, { key });
      expect(running.body.queuePosition).toBeNull();
    } finally {
      await release();
    }
    await expect.poll(async () => (await viaB(`/api/v1/exports/${id}`, { key })).body.status, { timeout: 60_000, interval: 250 }).toBe("done");

    // Downloaded through web B: its signed link, served by web B, from the archive a worker wrote.
    const link = await viaB(`/api/v1/exports/${id}/download`, { key, headers: { Accept: "application/json" } });
    expect(link.status).toBe(200);
    expect(link.body.url.startsWith(webB.url)).toBe(true);
    const archive = await fetch(link.body.url);
    expect(archive.status).toBe(200);
    const files = await readZip(Buffer.from(await archive.arrayBuffer()));
    const manifest = JSON.parse(files.get("manifest.json")!.toString());
    const { n } = await getDb().selectFrom("hsi_record").where("project_id", "=", project).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    expect(manifest.files.map((f: { rows: number }) => f.rows)).toEqual([Number(n)]);

    // Once it is done, the project is free again, whichever process asks.
    const again = await viaB("/api/v1/exports", { key, method: "POST", json: body });
    expect(again.status).toBe(202);
  });
});
