import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { recoverStalledExports } from "../../app/exports/engine/recovery.server";
import { apiExport } from "../../app/api/schemas";
import { startApp, type RunningApp } from "../setup/app-server";
import { ALL_KEY_PERMISSIONS, apiClient, createKey, tenantBySlug } from "../setup/api";
import { holdTable } from "../setup/exports";
import { startS3 } from "../setup/s3";
import { readZip } from "../setup/zip";

// Production's shape on one machine: two web processes (`npm run web`) and two worker processes
// (`npm run worker`) on one PostgreSQL and one S3-compatible bucket (s3rver), the load balancer being
// whichever web process a request goes to. No process shares a disk with another.
let s3: Awaited<ReturnType<typeof startS3>>;
let webA: RunningApp;
let webB: RunningApp;
const workers: ChildProcess[] = [];
let key: string;

function startWorkerProcess() {
  const child = spawn(process.execPath, ["--import", "tsx", "worker/cli.ts"], { env: { ...process.env, WORKER_CONCURRENCY: "1" }, stdio: "ignore" });
  workers.push(child);
  return child;
}

function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM") {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill(signal);
  });
}

beforeAll(async () => {
  s3 = await startS3(); // sets the S3 settings in process.env, which every process started here inherits
  webA = await startApp({}, ["--web"]);
  webB = await startApp({}, ["--web"]);
  key = await createKey("production", ALL_KEY_PERMISSIONS, { name: "scale-out" });
  await getDb().updateTable("tenant").set({ api_requests_per_hour: 100_000 }).where("slug", "=", "production").execute();
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => stopProcess(w)));
  await Promise.all([webA?.stop(), webB?.stop()]);
  await s3?.remove();
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

    // Downloaded through web B: its signed link, checked by web B, then a presigned GET of the object a worker wrote.
    const link = await viaB(`/api/v1/exports/${id}/download`, { key, headers: { Accept: "application/json" } });
    expect(link.status).toBe(200);
    expect(link.body.url.startsWith(webB.url)).toBe(true);
    const redirect = await fetch(link.body.url, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toContain(`127.0.0.1:${s3.port}/`);
    const archive = await fetch(redirect.headers.get("location")!);
    expect(archive.status).toBe(200);
    const files = await readZip(Buffer.from(await archive.arrayBuffer()));
    const manifest = JSON.parse(files.get("manifest.json")!.toString());
    const { n } = await getDb().selectFrom("hsi_record").where("project_id", "=", project).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    expect(manifest.files.map((f: { rows: number }) => f.rows)).toEqual([Number(n)]);

    // Once it is done, the project is free again, whichever process asks.
    const again = await viaB("/api/v1/exports", { key, method: "POST", json: body });
    expect(again.status).toBe(202);
  });

  it("finish an export whose worker was SIGKILLed mid-run on the other worker, once, with the right archive", { timeout: 120_000 }, async () => {
    // Start from the two workers of this test alone, so the one holding the export is known.
    await Promise.all(workers.splice(0).map((w) => stopProcess(w)));
    const viaA = apiClient(webA.url);
    const project = await projectId((await getDb().selectFrom("project").innerJoin("tenant as t", "t.id", "project.tenant_id").where("t.slug", "=", "production").select("project.name").orderBy("project.name", "desc").executeTakeFirstOrThrow()).name);
    const release = await holdTable("hsi_record");
    let id = "";
    try {
      const created = await viaA("/api/v1/exports", { key, method: "POST", json: { scope: { type: "project", projectId: project }, dataTypes: ["hsi_records"], format: "both" } });
      expect(created.status).toBe(202);
      id = created.body.id;
      const doomed = startWorkerProcess();
      await expect.poll(async () => (await viaA(`/api/v1/exports/${id}`, { key })).body.status, { timeout: 30_000, interval: 200 }).toBe("running");
      startWorkerProcess();
      await stopProcess(doomed, "SIGKILL");
    } finally {
      await release();
    }
    // The cron task's work, a minute on: the dead worker's lease has lapsed, so its job goes back to the queue.
    expect(await recoverStalledExports(getDb(), new Date(Date.now() + 61_000))).toEqual([id]);
    await expect.poll(async () => (await viaA(`/api/v1/exports/${id}`, { key })).body.status, { timeout: 60_000, interval: 250 }).toBe("done");

    const link = await apiClient(webB.url)(`/api/v1/exports/${id}/download`, { key, headers: { Accept: "application/json" } });
    const files = await readZip(Buffer.from(await (await fetch(link.body.url)).arrayBuffer()));
    const { n } = await getDb().selectFrom("hsi_record").where("project_id", "=", project).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    const manifest = JSON.parse(files.get("manifest.json")!.toString());
    expect(manifest.files.map((f: { rows: number }) => f.rows)).toEqual([Number(n), Number(n)]);
    // No duplicate: one object for it in the bucket, the one recorded, and one "done" in its history.
    const tenant = await tenantBySlug("production");
    const objects = s3.objectKeys().filter((k) => k.startsWith(`exports/${tenant.id}/${id}.`));
    const { archive_key } = await getDb().selectFrom("export").select("archive_key").where("id", "=", id).executeTakeFirstOrThrow();
    expect(objects).toEqual([archive_key]);
    const events = await getDb().selectFrom("audit_event").select("action").where("subject_id", "=", id).execute();
    expect(events.filter((e) => e.action === "export.done")).toHaveLength(1);
  });

  it("share the API's rate limits: a burst of 3 holds across both web processes", { timeout: 60_000 }, async () => {
    await getDb().updateTable("tenant").set({ api_export_burst: 3, api_exports_per_hour: 30 }).where("slug", "=", "main").execute();
    const mainKey = await createKey("main");
    const clients = [apiClient(webA.url), apiClient(webB.url)];
    // Invalid requests spend their token before they are refused, so these create nothing.
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => clients[i % 2]("/api/v1/exports", { key: mainKey, method: "POST", json: { format: "xml" } })));
    expect(answers.filter((r) => r.status === 400)).toHaveLength(3);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(3);
  });
});
