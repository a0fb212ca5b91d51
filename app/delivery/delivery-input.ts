import { z } from "zod";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A webhook URL: https, or http only to this machine (localhost, 127.0.0.1), for trying a receiver out. */
export function webhookUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "Enter a full URL, such as https://example.com/hooks/exportal.";
  }
  if (url.username || url.password) return "Leave the user name and password out of the URL.";
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname)) return null;
  return "Use an https:// URL (http:// is allowed only for localhost and 127.0.0.1).";
}

export const webhookInputSchema = z.strictObject({
  url: z
    .string({ error: "Enter the URL." })
    .trim()
    .min(1, "Enter the URL.")
    .max(2000, "Use at most 2,000 characters.")
    .superRefine((value, ctx) => {
      const problem = webhookUrlProblem(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .describe("Where events are POSTed: https, or http only for localhost and 127.0.0.1."),
  description: z.string().trim().max(200, "Use at most 200 characters.").optional().default("").describe("What the endpoint is for."),
});
export type WebhookInput = z.input<typeof webhookInputSchema>;

export const webhookChangeSchema = z.strictObject({
  disabled: z.boolean({ error: "Use true or false." }).describe("true stops the endpoint receiving events (schedules skip it); false lets it receive them again."),
});

export const bucketInputSchema = z.strictObject({
  name: z.string({ error: "Enter a name." }).trim().min(1, "Enter a name.").max(100, "Use at most 100 characters."),
  endpoint: z
    .string()
    .trim()
    .max(2000, "Use at most 2,000 characters.")
    .optional()
    .transform((v) => v || undefined)
    .refine((v) => v === undefined || /^https?:\/\/[^\s/]+/.test(v), { error: "Enter a URL such as https://s3.eu-central-1.amazonaws.com, or leave it empty for AWS." })
    .describe("The S3-compatible server, such as https://s3.eu-central-1.amazonaws.com or a MinIO URL; left out for AWS."),
  region: z
    .string()
    .trim()
    .max(100, "Use at most 100 characters.")
    .optional()
    .transform((v) => v || "us-east-1")
    .describe("The bucket's region; us-east-1 when left out (auto for R2)."),
  bucket: z.string({ error: "Enter the bucket." }).trim().regex(/^[a-z0-9][a-z0-9.\-_]{1,253}[a-z0-9]$/i, "Enter a bucket name: letters, digits, dots, dashes, 3 to 255 characters."),
  prefix: z
    .string()
    .trim()
    .max(500, "Use at most 500 characters.")
    .optional()
    .transform((v) => (v ? v.replace(/^\/+/, "").replace(/\/*$/, "/") : ""))
    .describe("The folder runs go under, as `<prefix><schedule>/<slot>/`; a trailing slash is added."),
  forcePathStyle: z
    .union([z.boolean(), z.enum(["on", "true", "false"])])
    .optional()
    .transform((v) => v === true || v === "on" || v === "true")
    .describe("true: address the bucket as endpoint/bucket/key (MinIO and most self-hosted servers need it)."),
  accessKeyId: z.string({ error: "Enter the access key id." }).trim().min(1, "Enter the access key id.").max(200, "Use at most 200 characters."),
  secretAccessKey: z
    .string({ error: "Enter the secret access key." })
    .min(1, "Enter the secret access key.")
    .max(500, "Use at most 500 characters.")
    .describe("Stored encrypted, used only to upload, never shown again."),
});
export type BucketInput = z.input<typeof bucketInputSchema>;
