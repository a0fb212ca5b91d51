import { afterAll } from "vitest";
import { startS3 } from "../setup/s3";

// The export engine's whole suite again, with archives in S3-compatible storage (a real s3rver) instead of local disk.
const s3 = await startS3();
afterAll(() => s3.remove());
await import("./export-engine.test");
