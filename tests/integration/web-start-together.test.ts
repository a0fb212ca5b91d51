import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { startApp, type RunningApp } from "../setup/app-server";

// Two `npm run web` processes started at once on an empty database, as a deployment rolls out.
const serverUrl = inject("serverUrl");
const name = `together_${randomBytes(6).toString("hex")}`;
const url = `${serverUrl}/${name}`;
const admin = postgres(`${serverUrl}/postgres`, { max: 1, onnotice: () => {} });
const apps: RunningApp[] = [];

afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

describe("web processes starting together", () => {
  it("migrate and seed the database once between them, and both serve", { timeout: 120_000 }, async () => {
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const env = { DATABASE_URL: url, SEED_HSI_ROWS: "2000" };
    apps.push(...(await Promise.all([startApp(env, ["--web"]), startApp(env, ["--web"])])));

    const seeded = apps.filter((a) => a.output().includes("Seeding the demo organization"));
    expect(seeded).toHaveLength(1);
    for (const a of apps) {
      expect(a.output()).toContain("Web process only");
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    }
    const db = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [{ n }] = await db`select count(*)::int as n from organization where slug = 'acme-health'`;
      expect(n).toBe(1);
    } finally {
      await db.end();
    }
  });
});
