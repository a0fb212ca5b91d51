import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";

export const BUCKET = "exportal-archives";

/**
 * A real S3-protocol server (s3rver) on a free port, storing into a temporary
 * folder, and the portal's S3 settings pointing at it. s3rver lacks
 * AbortMultipartUpload; the server here answers it as S3 does (the parts go,
 * 204), so a test can see whether an upload was aborted.
 */
export async function startS3(partSizeMb = 5) {
  const directory = mkdtempSync(path.join(os.tmpdir(), "exportal-s3-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", directory, silent: true, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const uploadsDir = () => path.join(directory, BUCKET, "._S3rver_uploads");
  server.middleware.unshift(async (ctx, next) => {
    if (ctx.method === "DELETE" && typeof ctx.query.uploadId === "string") {
      const dir = path.join(uploadsDir(), path.basename(ctx.query.uploadId));
      if (!existsSync(dir)) {
        ctx.status = 404;
        ctx.type = "application/xml";
        ctx.body = "<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>";
        return;
      }
      rmSync(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    await next();
  });
  const { port } = await server.run();
  Object.assign(process.env, {
    EXPORTAL_S3_BUCKET: BUCKET,
    EXPORTAL_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    EXPORTAL_S3_REGION: "us-east-1",
    EXPORTAL_S3_FORCE_PATH_STYLE: "true",
    EXPORTAL_S3_PART_SIZE_MB: String(partSizeMb),
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  });
  return {
    port,
    /** Multipart uploads begun and neither completed nor aborted. */
    pendingUploads: () => (existsSync(uploadsDir()) ? readdirSync(uploadsDir()) : []),
    /** Keys of the objects stored in the bucket. */
    objectKeys(): string[] {
      const keys: string[] = [];
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          if (entry.isDirectory() && entry.name !== "._S3rver_uploads") walk(path.join(dir, entry.name));
          else if (entry.name.endsWith("._S3rver_object")) keys.push(path.relative(path.join(directory, BUCKET), path.join(dir, entry.name.replace(/\._S3rver_object$/, ""))));
        }
      };
      walk(path.join(directory, BUCKET));
      return keys;
    },
    /** Stops the server at once, cutting the requests in flight. */
    async stop() {
      const http = server.httpServer as import("node:http").Server | undefined;
      if (!http?.listening) return;
      const closed = new Promise((resolve) => http.close(resolve));
      http.closeAllConnections();
      await closed;
    },
    async remove() {
      await this.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
