// Secrets: names, versions and metadata for viewers; writes for deployers; reading a value,
// undeleting and destroying for admins. Every change is audited by the vault inside its own
// transaction (audit-trail.ts), so it happens only if its entry is written. A value enters only
// through PUT and leaves only through GET …/value; no other answer, error or entry carries it.
import { isUtf8 } from "node:buffer";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { MAX_VALUE_BYTES, type Vault } from "../vault/index.ts";
import { actorOf, createdByOf, RESERVED_PREFIX } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { jurisdictionWarnings } from "./jurisdiction-warnings.ts";
import { route, type RouteDef } from "./route.ts";
import {
  DeleteSecretQuerySchema,
  DeliverySchema,
  SecretDeletedSchema,
  SecretDestroyedSchema,
  SecretUndeletedSchema,
  DestroySecretBodySchema,
  PutSecretBodySchema,
  RollbackSecretBodySchema,
  SecretParamsSchema,
  SecretSchema,
  SecretValueQuerySchema,
  SecretValueSchema,
  SecretVersionSchema,
  SecretWrittenSchema,
} from "../contract/index.ts";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const target = ({ params }: { params: { name: string } }) => `secret:${params.name}`;

/** The orchestrator's own secrets (its signing key) are not the API's to read or change. */
function notReserved(name: string): string {
  if (name.startsWith(RESERVED_PREFIX)) {
    throw new CboError("ERR_FORBIDDEN", `Secret names starting with "${RESERVED_PREFIX}" are reserved for the orchestrator.`, {
      details: { name },
    });
  }
  return name;
}

function decode(value: string, encoding: "utf8" | "base64" | undefined): Uint8Array | string {
  if (encoding !== "base64") return value;
  // Errors describe the shape only: the text is a secret.
  if (!BASE64.test(value))
    throw new CboError("ERR_VALIDATION", "body.value is not valid base64 (standard alphabet, padded).", {
      details: { issues: [{ path: "body.value", message: "not base64" }] },
    });
  return Buffer.from(value, "base64");
}

/** The expected version for operations the vault always checks: the caller's, else the current one. */
const casOf = (vault: Vault, name: string, tenant: string, cas: number | undefined) => cas ?? vault.info(name, { tenant }).version;

export function secretRoutes(ctx: RouteContext): RouteDef[] {
  const { vault, trail } = ctx.deps.security;
  return [
    route({
      id: "listSecrets",
      method: "get",
      path: "/v1/secrets",
      summary: "Every secret of the tenant (deleted ones too) with its current version and policy; never a value",
      role: "viewer",
      response: z.array(SecretSchema),
      handle: ({ tenant }) =>
        vault
          .list({ tenant })
          .filter((s) => !s.name.startsWith(RESERVED_PREFIX))
          .map((s) => ({
            name: s.name,
            version: s.version,
            mode: s.mode,
            jurisdictions: s.jurisdictions,
            deleted: s.deleted,
            updatedAt: s.updated_at,
          })),
    }),
    route({
      id: "listSecretVersions",
      method: "get",
      path: "/v1/secrets/:name/versions",
      summary: "The kept versions of a secret, oldest first; metadata only",
      role: "viewer",
      params: SecretParamsSchema,
      response: z.array(SecretVersionSchema),
      errors: [404],
      handle: ({ params, tenant }) =>
        vault
          .versions(notReserved(params.name), { tenant })
          .map((v) => ({ version: v.version, createdAt: v.created_at, ...createdByOf(v.created_by), destroyed: v.destroyed })),
    }),
    route({
      id: "putSecret",
      method: "put",
      path: "/v1/secrets/:name",
      summary:
        "Writes a new version of a secret (check-and-set with cas); answers with the version, never the value, and warnings (a jurisdiction no target has)",
      role: "deployer",
      params: SecretParamsSchema,
      body: PutSecretBodySchema,
      // The largest value, written as JSON at its worst (every byte a \u00XX escape), and the rest:
      // a value over the vault's limit still gets the vault's own answer, naming that limit.
      maxBodyBytes: 6 * MAX_VALUE_BYTES + 4096,
      response: SecretWrittenSchema,
      errors: [409, 413, 503],
      audit: { action: "secret.put", target },
      handle({ params, body, tenant, principal }) {
        const value = decode(body.value, body.encoding);
        try {
          const { version } = vault.put(notReserved(params.name), value, {
            tenant,
            by: actorOf(principal!),
            ...(body.cas === undefined ? {} : { cas: body.cas }),
            ...(body.mode ? { mode: body.mode } : {}),
            ...(body.jurisdictions ? { jurisdictions: body.jurisdictions } : {}),
          });
          const warnings = jurisdictionWarnings(params.name, body.jurisdictions ?? [], ctx.deps.spec().targets);
          return { name: params.name, version, ...(warnings.length ? { warnings } : {}) };
        } finally {
          if (typeof value !== "string") value.fill(0);
        }
      },
    }),
    route({
      id: "getSecretValue",
      method: "get",
      path: "/v1/secrets/:name/value",
      summary: "The value of a secret (current version unless ?version=); recorded in the audit log as secret.read",
      role: "admin",
      params: SecretParamsSchema,
      query: SecretValueQuerySchema,
      response: SecretValueSchema,
      errors: [404, 503],
      audit: { action: "secret.read", target },
      handle({ params, query, tenant, principal }) {
        const r = trail.readSecret(vault, notReserved(params.name), {
          tenant,
          actor: actorOf(principal!),
          ...(query.version ? { version: query.version } : {}),
        });
        try {
          const bytes = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
          const encoding = query.encoding ?? (isUtf8(bytes) ? "utf8" : "base64");
          return { name: params.name, version: r.version, value: bytes.toString(encoding), encoding };
        } finally {
          r.value.fill(0);
        }
      },
    }),
    route({
      id: "rollbackSecret",
      method: "post",
      path: "/v1/secrets/:name/rollback",
      summary: "Makes an earlier version's value the current one, as a new version",
      role: "deployer",
      params: SecretParamsSchema,
      body: RollbackSecretBodySchema,
      response: SecretWrittenSchema,
      errors: [404, 409, 503],
      audit: { action: "secret.rollback", target },
      handle({ params, body, tenant, principal }) {
        const name = notReserved(params.name);
        const { version } = vault.rollback(name, body.to, { tenant, cas: casOf(vault, name, tenant, body.cas), by: actorOf(principal!) });
        return { name, version };
      },
    }),
    route({
      id: "deleteSecret",
      method: "delete",
      path: "/v1/secrets/:name",
      summary: "Soft-deletes a secret: hidden from delivery and reads until an admin undeletes it",
      role: "deployer",
      params: SecretParamsSchema,
      query: DeleteSecretQuerySchema,
      response: SecretDeletedSchema,
      errors: [404, 409, 503],
      audit: { action: "secret.delete", target },
      handle({ params, query, tenant, principal }) {
        const name = notReserved(params.name);
        vault.softDelete(name, { tenant, cas: casOf(vault, name, tenant, query.cas), by: actorOf(principal!) });
        return { name, deleted: true as const };
      },
    }),
    route({
      id: "undeleteSecret",
      method: "post",
      path: "/v1/secrets/:name/undelete",
      summary: "Restores a soft-deleted secret",
      role: "admin",
      params: SecretParamsSchema,
      response: SecretUndeletedSchema,
      errors: [404, 503],
      audit: { action: "secret.undelete", target },
      handle({ params, tenant, principal }) {
        const name = notReserved(params.name);
        vault.undelete(name, { tenant, by: actorOf(principal!) });
        return { name, deleted: false as const };
      },
    }),
    route({
      id: "destroySecret",
      method: "post",
      path: "/v1/secrets/:name/destroy",
      summary: "Irreversibly destroys versions of a secret (default: all); their metadata stays",
      role: "admin",
      params: SecretParamsSchema,
      body: DestroySecretBodySchema,
      response: SecretDestroyedSchema,
      errors: [404, 503],
      audit: { action: "secret.destroy", target },
      handle({ params, body, tenant, principal }) {
        const name = notReserved(params.name);
        const { destroyed } = vault.destroy(name, {
          tenant,
          by: actorOf(principal!),
          ...(body.versions ? { versions: body.versions } : {}),
        });
        return { name, destroyed };
      },
    }),
    route({
      id: "deliverSecret",
      method: "post",
      path: "/v1/secrets/:name/deliver",
      summary:
        "Starts a release of every worker that lists the secret, so each target ships its current version (through canary steps and gates)",
      role: "deployer",
      params: SecretParamsSchema,
      status: 202,
      response: DeliverySchema,
      errors: [404, 409, 503],
      audit: { action: "secret.deliver", target },
      async handle({ params, tenant, principal }) {
        const name = notReserved(params.name);
        const info = vault.info(name, { tenant });
        const users = ctx.deps.spec().workers.filter((w) => w.secrets.includes(name));
        if (users.length === 0)
          throw new CboError("ERR_NOT_FOUND", `No worker lists secret ${name}.`, {
            hint: "Add it under the worker's `secrets:` in orchestrator.yaml.",
          });
        // All or none: a worker already releasing would ship a mix, so refuse before starting any.
        const busy = users.filter((w) => ctx.deps.store.releases.unfinished().some((r) => r.tenant === tenant && r.worker === w.name));
        if (busy.length > 0)
          throw new CboError("ERR_CONFLICT", `Worker(s) ${busy.map((w) => w.name).join(", ")} have a release in progress.`, {
            hint: "Deliver when it has finished.",
          });
        // Who started them, as every release records it (routes-releases.ts): the token's name.
        const by = principal!.name;
        const releases = [];
        for (const w of users) releases.push({ worker: w.name, releaseId: (await ctx.deps.engine.release(w.name, { by })).id });
        return { name, version: info.version, releases };
      },
    }),
  ];
}
