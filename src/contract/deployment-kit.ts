// GET /v1/kit on the wire: the deployment kit's choices a request (or `cbo kit`'s flags) may
// override, and the archive's content type. Every value that ends up in a shell script, a unit
// file or a YAML file passes a strict pattern here (src/packaging builds the kit).
import * as z from "zod";

export const KIT_CONTENT_TYPE = "application/gzip";

/** An absolute POSIX path of plain characters: safe unquoted in sh, systemd and YAML. */
export const SafePathSchema = z
  .string()
  // Each segment starts with "/": no nested quantifier that could backtrack.
  .regex(/^(?:\/[A-Za-z0-9._-]+)+\/?$/, "use an absolute path of letters, digits, . _ - and /")
  .refine((p) => !p.split("/").includes(".."), "must not contain ..")
  .transform((p) => (p.length > 1 ? p.replace(/\/+$/, "") : p));

export const HostnameSchema = z
  .string()
  .regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "use a DNS hostname such as cbo.example.com");

/** The kit's choices, each optional and without defaults: what a request or a flag may override. */
export const KitOverridesSchema = z
  .object({
    port: z.coerce.number().int().min(1).max(65_535).optional(),
    edgePort: z.coerce.number().int().min(1).max(65_535).optional(),
    dataDir: SafePathSchema.optional(),
    installDir: SafePathSchema.optional(),
    etcDir: SafePathSchema.optional(),
    tunnelHostname: HostnameSchema.optional(),
  })
  .strict();
export type KitOverrides = z.input<typeof KitOverridesSchema>;
