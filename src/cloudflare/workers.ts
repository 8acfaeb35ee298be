// Workers scripts, versions and deployments, plus `deploy` and `rollback` built from them the way
// wrangler does. Uploads are multipart in wrangler's form (upload.ts); the rest is JSON.
import * as z from "zod";
import { CboError, isCboError } from "../kit/errors.ts";
import { byCodeUnits } from "../kit/order.ts";
import { type ApiContext, seg } from "./context.ts";
import { responseShapeError } from "./errors.ts";
import {
  DeploymentListSchema,
  DeploymentSchema,
  type Deployment,
  ScriptSchema,
  type Script,
  ScriptUploadSchema,
  type ScriptUpload,
  SubdomainSchema,
  VersionSchema,
  type Version,
} from "./schemas.ts";
import { buildUploadForm, moduleTypeOf, type WorkerUpload } from "./upload.ts";

/** One entry of a deployment: a version and its share of traffic (0..100, fractions allowed). */
export type SplitEntry = { versionId: string; percentage: number };

export type DeploymentOptions = {
  /** Becomes the `workers/message` annotation. */
  message?: string;
  /** Deploy even if secrets changed since the version (Cloudflare code 10220). */
  force?: boolean;
};

export type DeployResult = {
  versionId: string;
  deployment: Deployment;
  /** True when the script did not exist and was created with a PUT. */
  created: boolean;
};

/** Codes meaning "no such Worker" (scripts and legacy services). */
export const MISSING_SCRIPT_CODES = [10007, 10090];

/** Percentages must each lie in 0..100 and add up to 100; version ids must be distinct. */
export function validateSplit(versions: SplitEntry[]): void {
  const fail = (message: string): never => {
    throw new CboError("ERR_VALIDATION", message, { details: { versions } });
  };
  if (versions.length === 0) fail("a deployment needs at least one version");
  const ids = new Set<string>();
  let sum = 0;
  for (const v of versions) {
    if (typeof v.versionId !== "string" || v.versionId === "") fail("every deployment entry needs a version id");
    if (ids.has(v.versionId)) fail(`version ${v.versionId} is listed twice`);
    ids.add(v.versionId);
    if (!Number.isFinite(v.percentage) || v.percentage < 0 || v.percentage > 100) {
      fail(`percentage ${v.percentage} of version ${v.versionId} is not within 0..100`);
    }
    sum += v.percentage;
  }
  if (Math.abs(sum - 100) > 1e-6) fail(`percentages add up to ${sum}, not 100`);
}

export function isMissingScript(e: unknown): boolean {
  if (!isCboError(e) || e.details?.status !== 404) return false;
  const codes = ((e.details.cloudflareErrors as { code: number }[] | undefined) ?? []).map((c) => c.code);
  return codes.length === 0 || codes.some((c) => MISSING_SCRIPT_CODES.includes(c));
}

export function createWorkersApi(ctx: ApiContext) {
  const account = () => ctx.accountId();
  const scriptPath = async (script: string) => `/accounts/${seg(await account())}/workers/scripts/${seg(script)}`;

  const api = {
    /** New version, not deployed (`POST …/versions`), multipart. */
    async uploadVersion(script: string, upload: WorkerUpload): Promise<Version> {
      return ctx.json("POST", `${await scriptPath(script)}/versions`, VersionSchema, {
        endpoint: "workers.versions.create",
        query: { bindings_inherit: "strict" },
        body: buildUploadForm(upload),
      });
    },

    /** Create or replace a script and deploy it (`PUT …/scripts/:name`), as wrangler's first deploy. Multipart. */
    async uploadScript(script: string, upload: WorkerUpload): Promise<ScriptUpload> {
      return ctx.json("PUT", await scriptPath(script), ScriptUploadSchema, {
        endpoint: "workers.scripts.put",
        query: { excludeScript: "true", bindings_inherit: "strict" },
        body: buildUploadForm(upload),
      });
    },

    /** All versions, newest first as the API lists them (`result.items`, paged to the empty page). */
    async listVersions(script: string, opts: { deployable?: boolean } = {}): Promise<Version[]> {
      return ctx.list(`${await scriptPath(script)}/versions`, VersionSchema, {
        paging: "page-items",
        query: { deployable: opts.deployable },
        endpoint: "workers.versions.list",
      });
    },

    async getVersion(script: string, versionId: string): Promise<Version> {
      return ctx.json("GET", `${await scriptPath(script)}/versions/${seg(versionId)}`, VersionSchema, { endpoint: "workers.versions.get" });
    },

    /** Route traffic to versions by percentage (validated before sending). */
    async createDeployment(script: string, versions: SplitEntry[], opts: DeploymentOptions = {}): Promise<Deployment> {
      validateSplit(versions);
      return ctx.json("POST", `${await scriptPath(script)}/deployments`, DeploymentSchema, {
        endpoint: "workers.deployments.create",
        query: { force: opts.force ? true : undefined },
        body: {
          strategy: "percentage",
          versions: versions.map((v) => ({ version_id: v.versionId, percentage: v.percentage })),
          annotations: opts.message === undefined ? {} : { "workers/message": opts.message },
        },
      });
    },

    /** Newest first; `[0]` is live. One answer: `{deployments}`, not a paged list. */
    async listDeployments(script: string): Promise<Deployment[]> {
      const list = await ctx.json("GET", `${await scriptPath(script)}/deployments`, DeploymentListSchema, {
        endpoint: "workers.deployments.list",
      });
      return list.deployments;
    },

    /**
     * Upload a version and deploy it at 100%. A script that does not exist yet (or a CommonJS
     * one, which versions cannot carry, or an upload with Durable Object migrations, which only a
     * PUT may apply) gets the PUT instead, as wrangler does; the PUT deploys on Cloudflare, and a
     * deployment is created only if the API did not make one.
     */
    async deploy(script: string, upload: WorkerUpload, opts: DeploymentOptions = {}): Promise<DeployResult> {
      const main = upload.modules.find((m) => m.name === upload.mainModule);
      if (main && moduleTypeOf(main) === "esm" && upload.migrations === undefined) {
        try {
          const version = await api.uploadVersion(script, upload);
          const deployment = await api.createDeployment(script, [{ versionId: version.id, percentage: 100 }], opts);
          return { versionId: version.id, deployment, created: false };
        } catch (e) {
          if (!isMissingScript(e)) throw e;
        }
      }
      const put = await api.uploadScript(script, upload);
      const versionId = put.deployment_id;
      if (!versionId) {
        throw responseShapeError({ method: "PUT", path: await scriptPath(script), problem: "a result without deployment_id" });
      }
      const [live] = await api.listDeployments(script);
      if (live && live.versions.length === 1 && live.versions[0]!.version_id === versionId && live.versions[0]!.percentage === 100) {
        return { versionId, deployment: live, created: true };
      }
      const deployment = await api.createDeployment(script, [{ versionId, percentage: 100 }], opts);
      return { versionId, deployment, created: true };
    },

    /**
     * Deploy an earlier version at 100%. Without `versionId`, wrangler's rule: newest deployment
     * first, skip the live one, take the first that had a version at 100%.
     */
    async rollback(script: string, opts: DeploymentOptions & { versionId?: string } = {}): Promise<Deployment> {
      let versionId = opts.versionId;
      if (versionId === undefined) {
        const deployments = [...(await api.listDeployments(script))].sort((a, b) =>
          byCodeUnits(String(b.created_on ?? ""), String(a.created_on ?? "")),
        );
        versionId = deployments
          .slice(1)
          .flatMap((d) => d.versions)
          .find((v) => v.percentage === 100)?.version_id;
        if (versionId === undefined) {
          throw new CboError("ERR_NOT_FOUND", `Worker ${script} has no earlier deployment at 100% to roll back to`);
        }
      }
      return api.createDeployment(script, [{ versionId, percentage: 100 }], {
        message: opts.message ?? "Rollback",
        ...(opts.force === undefined ? {} : { force: opts.force }),
      });
    },

    /** One page. */
    async listScripts(): Promise<Script[]> {
      return ctx.list(`/accounts/${seg(await account())}/workers/scripts`, ScriptSchema, {
        paging: "single",
        endpoint: "workers.scripts.list",
      });
    },

    /** `force` also deletes a script other resources still refer to. */
    async deleteScript(script: string, opts: { force?: boolean } = {}): Promise<void> {
      await ctx.json("DELETE", await scriptPath(script), z.unknown(), {
        endpoint: "workers.scripts.delete",
        query: { force: opts.force ? true : undefined },
      });
    },

    /** The account's workers.dev subdomain (`<sub>` in `<script>.<sub>.workers.dev`). */
    async getSubdomain(): Promise<string> {
      const result = await ctx.json("GET", `/accounts/${seg(await account())}/workers/subdomain`, SubdomainSchema, {
        endpoint: "workers.account-subdomain.get",
      });
      return result.subdomain;
    },
  };
  return api;
}
