// Cron triggers: validation of the schedules wrangler PUTs (CLOUDFLARE-API-FLEET.md §5), and the
// admin route that fires a scheduled event on a Worker's live version now:
// POST /__edge/trigger/:region/:script {"cron"?: "<expr>"} (same bearer token as the API).
import { Hono } from "hono";
import { CronSyntaxError, parseCron } from "../../kit/cron-expression.ts";
import type { AccountStore } from "../state/accounts.ts";
import type { ScriptStore } from "../state/scripts.ts";
import type { EventOutcome } from "../runtime/region-runtime.ts";
import { CF_CODES, CfApiError, notFoundScript } from "./envelope.ts";
import { readJson } from "./json-body.ts";

export type Schedule = { cron: string; created_on: string; modified_on: string };

/** The body of PUT …/schedules as the schedules to store; an invalid cron is refused whole. */
export function parseSchedules(
  body: unknown,
  previous: Array<{ cron: string; created_on?: string }>,
  now = new Date().toISOString(),
): Schedule[] {
  if (!Array.isArray(body) || !body.every((x) => x && typeof x === "object" && typeof (x as { cron?: unknown }).cron === "string")) {
    throw new CfApiError(400, CF_CODES.BAD_REQUEST, 'Schedules must be an array of {"cron": "<expression>"}.');
  }
  const out: Schedule[] = [];
  for (const { cron } of body as Array<{ cron: string }>) {
    const normalized = cron.trim().replace(/\s+/g, " ");
    try {
      parseCron(normalized);
    } catch (e) {
      if (e instanceof CronSyntaxError) throw new CfApiError(400, CF_CODES.CRON_INVALID, `Invalid cron "${cron}": ${e.message}`);
      throw e;
    }
    if (out.some((s) => s.cron === normalized)) continue;
    const before = previous.find((p) => p.cron === normalized);
    out.push({ cron: normalized, created_on: before?.created_on ?? now, modified_on: now });
  }
  return out;
}

export function cronRoutes(deps: {
  accounts: AccountStore;
  scripts: ScriptStore;
  fire: (region: string, script: string, cron: string, scheduledTime: number) => Promise<EventOutcome>;
}) {
  const app = new Hono();
  app.post("/__edge/trigger/:region/:script", async (c) => {
    const region = c.req.param("region");
    const account = deps.accounts.byRegion(region);
    if (!account) throw new CfApiError(404, CF_CODES.NO_ROUTE, `No region named "${region}".`);
    const name = c.req.param("script");
    const script = deps.scripts.get(account.id, name);
    if (!script) throw notFoundScript(name);
    const body = ((await c.req.text()).trim() === "" ? {} : await readJson(c)) as { cron?: unknown };
    let cron: string;
    if (body.cron !== undefined) {
      if (typeof body.cron !== "string") throw new CfApiError(400, CF_CODES.BAD_REQUEST, "`cron` must be a string.");
      cron = body.cron.trim().replace(/\s+/g, " ");
      try {
        parseCron(cron);
      } catch (e) {
        throw new CfApiError(400, CF_CODES.CRON_INVALID, `Invalid cron "${body.cron}": ${(e as Error).message}`);
      }
    } else {
      const crons = script.schedules.map((s) => s.cron);
      if (crons.length !== 1) {
        throw new CfApiError(
          400,
          CF_CODES.BAD_REQUEST,
          crons.length === 0
            ? `Worker ${name} has no cron schedules; name the cron to fire.`
            : `Worker ${name} has ${crons.length} cron schedules (${crons.join(", ")}); name the one to fire.`,
        );
      }
      cron = crons[0]!;
    }
    const scheduledTime = Date.now();
    const outcome = await deps.fire(region, name, cron, scheduledTime);
    if (outcome.unavailable) throw new CfApiError(503, CF_CODES.UNAVAILABLE, `Region ${region} is unavailable (injected outage).`);
    if (!outcome.deployed)
      throw new CfApiError(409, CF_CODES.DEPLOYMENT_NOT_FOUND, `Worker ${name} has no live deployment in region ${region}.`);
    const result = (outcome.result ?? {}) as { outcome?: string; noRetry?: boolean };
    return c.json({
      region,
      script: name,
      cron,
      scheduledTime: new Date(scheduledTime).toISOString(),
      outcome: outcome.ok ? (result.outcome ?? "unknown") : "exception",
      noRetry: result.noRetry ?? false,
      ...(outcome.error ? { error: outcome.error } : {}),
    });
  });
  return app;
}
