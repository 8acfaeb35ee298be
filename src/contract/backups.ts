// POST /v1/backups on the wire: where the daemon may write an archive (paths on its own host), and
// what it wrote. The daemon's own checks of the place are src/backup/paths.ts.
import * as z from "zod";

const bytes = (s: string) => new TextEncoder().encode(s).length;
const AbsolutePath = z
  .string()
  .min(1)
  .refine((p) => !p.includes("\0"), "a path may not contain a NUL byte")
  .refine((p) => bytes(p) <= 4096, "a path is at most 4096 bytes")
  // A POSIX absolute path (the daemon runs on Linux): what node:path's isAbsolute says there.
  .refine((p) => p.startsWith("/"), "an absolute path on the daemon's host")
  .refine((p) => !p.split("/").includes(".."), "a path may not contain .. (give it as the daemon should see it)")
  .refine((p) => p.split("/").every((c) => bytes(c) <= 255), "each name in a path is at most 255 bytes");

export const BackupBodySchema = z
  .object({
    out: AbsolutePath.optional().describe("The archive to write (must not exist); default: a new name in `dir`"),
    dir: AbsolutePath.optional().describe("Where a generated archive name goes; default: the daemon's backup directory (<data>/backups)"),
    keep: z.number().int().min(1).max(10_000).optional().describe("Afterwards keep only the newest N archives in `dir`"),
  })
  .strict()
  .refine((b) => b.out === undefined || (b.dir === undefined && b.keep === undefined), {
    message: "out names one archive; dir and keep manage a directory of them: use one or the other",
    path: ["out"],
  });
export type BackupBody = z.input<typeof BackupBodySchema>;

export const BackupSchema = z.object({
  file: z.string(),
  bytes: z.number().int(),
  createdAt: z.string(),
  masterKeyId: z.string().describe("The master key that seals it (its public fingerprint): keep that key to restore it"),
  files: z.array(z.object({ name: z.string(), bytes: z.number().int() })),
  audit: z.object({ entries: z.number().int(), checkpoints: z.number().int() }),
  removed: z.array(z.string()).describe("Older archives removed by `keep`"),
});
export type Backup = z.output<typeof BackupSchema>;
