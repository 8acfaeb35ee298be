// /accounts/:acct/workers/*: scripts, versions, deployments, secrets, settings, subdomains.
import { Hono, type MiddlewareHandler } from "hono";
import type { AccountStore } from "../state/accounts.ts";
import type { ScriptStore } from "../state/scripts.ts";
import type { Account, Binding, Script } from "../state/model.ts";
import { CF_CODES, CfApiError, badRequest, notFoundScript, ok, pageInfo, pageParams } from "./envelope.ts";
import { parseJson, readJson, readJsonObject } from "./json-body.ts";
import { checkScriptName } from "./limits.ts";
import { parseUpload } from "./multipart.ts";
import type { Ops } from "./operations.ts";
import { parseSchedules } from "./routes-crons.ts";
import { scriptContentResponse } from "./script-content.ts";
import { deploymentJson, publicBindings, scriptJson, scriptSettingsJson, serviceJson, versionJson, workerJson } from "./present.ts";
import type { WorkerStores } from "../state/worker-stores.ts";
import type { Version } from "../state/model.ts";

/** The request's account; `scopedAccounts`: what a token scoped to some accounts reaches (scoped-tokens.ts). */
export type EdgeEnv = { Variables: { account: Account; scopedAccounts?: Set<string> } };

/** How many deployments GET …/deployments lists, newest first, as Cloudflare does. */
const DEPLOYMENTS_LISTED = 10;

export function workersRoutes(deps: { accounts: AccountStore; scripts: ScriptStore; ops: Ops; stores: WorkerStores }) {
  const { accounts, scripts, ops } = deps;
  const { dos, extras } = deps.stores;
  const tagOf = (acct: string, name: string) => dos.migrationTag(acct, name);
  const handlersOf = (v: Version | undefined) => (v ? (extras.get(v.id).settings as { handlers?: string[] }).handlers : undefined);
  /** What the startup probe measured at upload (operations.ts); 1 for a version from before it, or without code. */
  const startupOf = (v: Version) => (extras.get(v.id).settings as { startup_time_ms?: number }).startup_time_ms ?? 1;
  /** Preview URLs exist while previews are on, and (as at Cloudflare) not for Workers implementing Durable Objects. */
  const versionOut = (v: Version) => {
    const s = scripts.get(v.account_id, v.script);
    const { limits, handlers } = extras.get(v.id).settings as { limits?: Record<string, unknown>; handlers?: string[] };
    return versionJson(v, handlers ?? ["fetch"], {
      startupMs: startupOf(v),
      hasPreview: Boolean(s?.previews_enabled) && dos.ofScript(v.account_id, v.script).length === 0,
      ...(limits ? { limits } : {}),
    });
  };
  const app = new Hono<EdgeEnv>();
  // Cloudflare refuses a name outside its rule (e.g. `../../etc`, `<img src=x>`) with 10016, on
  // every route that names a Worker, before anything is looked up or stored.
  const nameRule: MiddlewareHandler<EdgeEnv> = async (c, next) => {
    checkScriptName(c.req.param("name") ?? "");
    await next();
  };
  for (const path of ["/workers/scripts/:name", "/workers/scripts/:name/*", "/workers/services/:name", "/workers/workers/:name"])
    app.use(path, nameRule);

  const script = (acct: string, name: string) => {
    const s = scripts.get(acct, name);
    if (!s) throw notFoundScript(name);
    return s;
  };

  // The SDK's workers.accountSettings: stored and served; the usage model changes no limit here.
  app.get("/workers/account-settings", (c) => ok(c, deps.accounts.workerSettings(c.var.account.id)));
  app.put("/workers/account-settings", async (c) => {
    const body = await readJsonObject(c);
    const next = { ...deps.accounts.workerSettings(c.var.account.id) };
    if (body.default_usage_model !== undefined) {
      if (!["standard", "bundled", "unbound"].includes(body.default_usage_model as string))
        throw badRequest('default_usage_model must be "standard", "bundled" or "unbound".');
      next.default_usage_model = body.default_usage_model as string;
    }
    if (body.green_compute !== undefined) {
      if (typeof body.green_compute !== "boolean") throw badRequest("green_compute must be true or false.");
      next.green_compute = body.green_compute;
    }
    deps.accounts.setWorkerSettings(c.var.account.id, next);
    return ok(c, next);
  });
  app.get("/workers/subdomain", (c) => ok(c, { subdomain: c.var.account.subdomain }));
  app.put("/workers/subdomain", async (c) => {
    const body = (await readJsonObject(c)) as { subdomain?: unknown };
    if (typeof body.subdomain !== "string" || !/^[a-z0-9-]{1,63}$/.test(body.subdomain))
      throw badRequest("subdomain must be a lowercase DNS label.");
    accounts.setSubdomain(c.var.account.id, body.subdomain);
    return ok(c, { subdomain: body.subdomain });
  });
  app.get("/workers/subdomains/:candidate", (c) =>
    c.var.account.subdomain === c.req.param("candidate")
      ? (() => {
          throw new CfApiError(409, 10031, "Subdomain is unavailable.");
        })()
      : (() => {
          throw new CfApiError(404, 10032, "Subdomain is available.");
        })(),
  );

  app.get("/workers/services/:name", (c) => {
    const s = scripts.get(c.var.account.id, c.req.param("name"));
    if (!s) throw new CfApiError(404, CF_CODES.SERVICE_NOT_FOUND, "This Worker does not exist on your account.");
    const latest = scripts.latestVersion(s.account_id, s.name);
    return ok(c, serviceJson(s, latest, tagOf(s.account_id, s.name), handlersOf(latest)));
  });
  app.get("/workers/workers/:name", (c) => ok(c, workerJson(script(c.var.account.id, c.req.param("name")), c.var.account)));
  app.get("/workers/workers", (c) => {
    const all = scripts.list(c.var.account.id);
    const { page, perPage, offset } = pageParams(c);
    const items = all.slice(offset, offset + perPage);
    return ok(
      c,
      items.map((s) => workerJson(s, c.var.account)),
      pageInfo(page, perPage, items.length, all.length),
    );
  });

  app.get("/workers/scripts", (c) => {
    // ?tags=a:yes,b:no keeps the scripts tagged a and not tagged b (tags as script-settings set them).
    const wanted = (c.req.query("tags") ?? "")
      .split(",")
      .filter((t) => t.trim() !== "")
      .map((pair) => {
        const at = pair.lastIndexOf(":");
        const [tag, allowed] = at < 0 ? [pair, "yes"] : [pair.slice(0, at), pair.slice(at + 1)];
        if (allowed !== "yes" && allowed !== "no") throw badRequest(`tags takes comma-separated tag:yes or tag:no pairs (got "${pair}").`);
        return { tag, yes: allowed === "yes" };
      });
    const tagged = (s: Script) => {
      const tags = Array.isArray(s.settings.tags) ? (s.settings.tags as unknown[]) : [];
      return wanted.every((w) => tags.includes(w.tag) === w.yes);
    };
    return ok(
      c,
      scripts
        .list(c.var.account.id)
        .filter(tagged)
        .map((s) => {
          const latest = scripts.latestVersion(s.account_id, s.name);
          return scriptJson(s, latest, tagOf(s.account_id, s.name), handlersOf(latest));
        }),
    );
  });

  app.put("/workers/scripts/:name", async (c) => {
    const upload = await parseUpload(c.req.raw);
    const { version } = await ops.upload(c.var.account.id, c.req.param("name"), upload, {
      deploy: true,
      strictInherit: c.req.query("bindings_inherit") === "strict",
    });
    const s = script(c.var.account.id, c.req.param("name"));
    return ok(c, {
      ...scriptJson(s, version, tagOf(s.account_id, s.name), handlersOf(version)),
      startup_time_ms: startupOf(version),
      deployment_id: version.id,
    });
  });
  app.get("/workers/scripts/:name", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    return mainModule(c.var.account.id, s.name);
  });
  // Every module of the version asked for (`?version=`), else of the one at the head of the deployment.
  app.get("/workers/scripts/:name/content/v2", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    const asked = c.req.query("version");
    const id =
      asked ?? scripts.currentDeployment(s.account_id, s.name)?.versions[0]?.version_id ?? scripts.latestVersion(s.account_id, s.name)?.id;
    const v = id ? scripts.getVersion(id) : undefined;
    if (!v || v.account_id !== s.account_id || v.script !== s.name)
      throw new CfApiError(404, CF_CODES.VERSION_NOT_FOUND, `Version ${asked ?? "(none)"} does not exist for Worker ${s.name}.`);
    return scriptContentResponse(scripts.modules(v.id), v.main_module);
  });
  app.delete("/workers/scripts/:name", async (c) => {
    await ops.deleteScript(c.var.account.id, c.req.param("name"));
    return ok(c, null);
  });
  function mainModule(acct: string, name: string): Response {
    const latest = scripts.currentDeployment(acct, name)?.versions[0]?.version_id ?? scripts.latestVersion(acct, name)?.id;
    const v = latest ? scripts.getVersion(latest) : undefined;
    const m = v ? scripts.modules(v.id).find((x) => x.name === v.main_module) : undefined;
    if (!m) throw notFoundScript(name);
    return new Response(m.content, { headers: { "content-type": "application/javascript" } });
  }

  // --- versions ---
  app.post("/workers/scripts/:name/versions", async (c) => {
    const upload = await parseUpload(c.req.raw);
    const { version } = await ops.upload(c.var.account.id, c.req.param("name"), upload, {
      deploy: false,
      strictInherit: c.req.query("bindings_inherit") === "strict",
    });
    return ok(c, versionOut(version));
  });
  app.get("/workers/scripts/:name/versions", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    const { page, perPage, offset } = pageParams(c, 10, 100);
    const total = scripts.countVersions(s.account_id, s.name);
    const items = scripts.listVersions(s.account_id, s.name, perPage, offset).map(versionOut);
    return ok(c, { items }, pageInfo(page, perPage, items.length, total));
  });
  app.get("/workers/scripts/:name/versions/:id", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    const v = scripts.getVersion(c.req.param("id"));
    if (!v || v.account_id !== s.account_id || v.script !== s.name)
      throw new CfApiError(404, CF_CODES.VERSION_NOT_FOUND, `Version ${c.req.param("id")} does not exist for Worker ${s.name}.`);
    return ok(c, versionOut(v));
  });

  // --- deployments ---
  // Cloudflare lists the 10 most recent deployments (wrangler's `deployments list` says so and
  // prints what it gets, fetching each one's versions); older ones stay readable by id.
  app.get("/workers/scripts/:name/deployments", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    const recent = scripts.listDeployments(s.account_id, s.name).slice(0, DEPLOYMENTS_LISTED);
    return ok(c, { deployments: recent.map(deploymentJson) });
  });
  app.post("/workers/scripts/:name/deployments", async (c) => {
    const d = await ops.deploy(c.var.account.id, c.req.param("name"), await readJson(c), { force: c.req.query("force") === "true" });
    return ok(c, deploymentJson(d));
  });
  app.get("/workers/scripts/:name/deployments/:id", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    const d = scripts.getDeployment(c.req.param("id"));
    if (!d || d.account_id !== s.account_id || d.script !== s.name)
      throw new CfApiError(404, CF_CODES.DEPLOYMENT_NOT_FOUND, `Deployment ${c.req.param("id")} does not exist.`);
    return ok(c, deploymentJson(d));
  });
  app.delete("/workers/scripts/:name/deployments/:id", async (c) => {
    await ops.deleteDeployment(c.var.account.id, c.req.param("name"), c.req.param("id"));
    return ok(c, null);
  });

  // --- secrets ---
  const secretsOf = (acct: string, name: string) =>
    (scripts.latestVersion(acct, name)?.bindings ?? []).filter((b) => b.type === "secret_text" || b.type === "secret_key");
  app.get("/workers/scripts/:name/secrets", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    return ok(
      c,
      secretsOf(s.account_id, s.name).map((b) => ({ name: b.name, type: b.type })),
    );
  });
  app.get("/workers/scripts/:name/secrets/:secret", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    const name = decodeURIComponent(c.req.param("secret"));
    const b = secretsOf(s.account_id, s.name).find((x) => x.name === name);
    if (!b) throw new CfApiError(404, CF_CODES.SECRET_NOT_FOUND, `Secret "${name}" does not exist on Worker ${s.name}.`);
    return ok(c, { name: b.name, type: b.type });
  });
  app.put("/workers/scripts/:name/secrets", async (c) => {
    const body = (await readJsonObject(c)) as { name?: unknown; text?: unknown; type?: unknown };
    if (typeof body.name !== "string" || body.name === "" || typeof body.text !== "string")
      throw badRequest("A secret needs a string `name` and `text`.");
    if (body.type !== undefined && body.type !== "secret_text")
      throw badRequest(`Secret type "${String(body.type)}" is not supported; use secret_text.`);
    await ops.putSecret(c.var.account.id, c.req.param("name"), { name: body.name, text: body.text, type: "secret_text" });
    return ok(c, { name: body.name, type: "secret_text" });
  });
  app.delete("/workers/scripts/:name/secrets/:secret", async (c) => {
    // wrangler sends ?url_encoded=true; Hono has decoded the path once already.
    await ops.deleteSecret(c.var.account.id, c.req.param("name"), c.req.param("secret"));
    return ok(c, null);
  });
  app.patch("/workers/scripts/:name/secrets-bulk", async (c) => {
    const body = (await readJsonObject(c)) as { secrets?: unknown };
    if (!body.secrets || typeof body.secrets !== "object")
      throw badRequest("The body needs `secrets`: an object of name -> {name,text,type} or null.");
    const patch: Record<string, { text: string } | null> = {};
    for (const [k, v] of Object.entries(body.secrets as Record<string, unknown>)) {
      if (v === null) patch[k] = null;
      else if (typeof v === "object" && typeof (v as { text?: unknown }).text === "string")
        patch[k] = { text: (v as { text: string }).text };
      else throw badRequest(`Secret "${k}" needs a string \`text\` (or null to delete it).`);
    }
    await ops.bulkSecrets(c.var.account.id, c.req.param("name"), patch);
    return ok(c, null);
  });

  // `wrangler versions secret put|bulk|delete` (4.1xx): `{env: {NAME: {type: "secret_text", text} | null}, annotations}`.
  app.patch("/workers/workers/:name/versions/latest", async (c) => {
    const body = (await readJsonObject(c)) as { env?: unknown; annotations?: unknown };
    if (!body.env || typeof body.env !== "object" || Array.isArray(body.env))
      throw badRequest('The body needs `env`: an object of name -> {type: "secret_text", text} or null.');
    const patch: Record<string, { text: string } | null> = {};
    for (const [k, v] of Object.entries(body.env as Record<string, unknown>)) {
      const b = v as { type?: unknown; text?: unknown } | null;
      if (b === null) patch[k] = null;
      else if (typeof b === "object" && b.type === "secret_text" && typeof b.text === "string") patch[k] = { text: b.text };
      else throw badRequest(`env.${k} must be {"type": "secret_text", "text": "…"} or null; the local edge patches secrets only.`);
    }
    const annotations: Record<string, string> = {};
    if (body.annotations && typeof body.annotations === "object")
      for (const [k, v] of Object.entries(body.annotations as Record<string, unknown>))
        if (typeof v === "string" && v !== "") annotations[k] = v;
    return ok(c, versionOut(ops.patchLatestVersionSecrets(c.var.account.id, c.req.param("name"), patch, annotations)));
  });

  // --- settings ---
  const versionSettings = (acct: string, name: string) => {
    const v = scripts.latestVersion(acct, name);
    const s = script(acct, name);
    const own = v ? extras.get(v.id).settings : {};
    return {
      bindings: publicBindings(v?.bindings ?? []),
      compatibility_date: v?.compatibility_date,
      compatibility_flags: v?.compatibility_flags ?? [],
      logpush: Boolean(s.settings.logpush),
      placement: own.placement ?? {},
      ...(own.limits !== undefined ? { limits: own.limits } : {}),
      tail_consumers: s.settings.tail_consumers ?? [],
      usage_model: own.usage_model ?? "standard",
      observability: s.settings.observability ?? { enabled: false },
    };
  };
  app.get("/workers/scripts/:name/settings", (c) => ok(c, versionSettings(c.var.account.id, c.req.param("name"))));
  app.patch("/workers/scripts/:name/settings", async (c) => {
    script(c.var.account.id, c.req.param("name"));
    let settings: { bindings?: Binding[] };
    try {
      const form = await c.req.raw.formData();
      // SDK 7 flattens the object into settings[logpush]=… fields (as it does upload metadata,
      // multipart.ts): without a `settings` part this would answer 200 and change nothing.
      if ([...form.keys()].some((k) => k.startsWith("settings[")))
        throw badRequest(
          "Bracket-encoded settings (cloudflare SDK 7 multipart) are not accepted; send `settings` as one JSON part.",
          CF_CODES.SCRIPT_INVALID,
        );
      const raw = form.get("settings");
      settings = parseJson(
        typeof raw === "string" ? raw : raw ? await raw.text() : "{}",
        "The `settings` part",
        CF_CODES.SCRIPT_INVALID,
      ) as typeof settings;
    } catch (e) {
      if (e instanceof CfApiError) throw e;
      throw badRequest("Settings must be multipart/form-data with a JSON `settings` part.", CF_CODES.SCRIPT_INVALID);
    }
    if (settings === null || typeof settings !== "object")
      throw badRequest("The `settings` part must be a JSON object.", CF_CODES.SCRIPT_INVALID);
    await ops.patchSettings(c.var.account.id, c.req.param("name"), settings);
    return ok(c, versionSettings(c.var.account.id, c.req.param("name")));
  });
  app.get("/workers/scripts/:name/script-settings", (c) => ok(c, scriptSettingsJson(script(c.var.account.id, c.req.param("name")))));
  app.patch("/workers/scripts/:name/script-settings", async (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    const body = (await readJsonObject(c)) as Record<string, unknown>;
    const settings = { ...s.settings };
    for (const k of ["logpush", "observability", "tags", "tail_consumers", "streaming_tail_consumers"])
      if (k in body) settings[k] = body[k];
    scripts.update({ ...s, settings, modified_on: new Date().toISOString() });
    return ok(c, scriptSettingsJson({ ...s, settings }));
  });

  // --- workers.dev subdomain and cron schedules ---
  app.get("/workers/scripts/:name/subdomain", (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    return ok(c, { enabled: s.subdomain_enabled, previews_enabled: s.previews_enabled });
  });
  app.post("/workers/scripts/:name/subdomain", async (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    const body = (await readJsonObject(c)) as { enabled?: unknown; previews_enabled?: unknown };
    const next = {
      ...s,
      subdomain_enabled: body.enabled === undefined ? s.subdomain_enabled : Boolean(body.enabled),
      previews_enabled:
        body.previews_enabled === undefined || body.previews_enabled === null ? s.previews_enabled : Boolean(body.previews_enabled),
    };
    scripts.update(next);
    await ops.refresh(c.var.account.id);
    return ok(c, { enabled: next.subdomain_enabled, previews_enabled: next.previews_enabled });
  });
  app.delete("/workers/scripts/:name/subdomain", async (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    scripts.update({ ...s, subdomain_enabled: false, previews_enabled: false });
    await ops.refresh(c.var.account.id);
    return ok(c, { enabled: false, previews_enabled: false });
  });
  app.get("/workers/scripts/:name/schedules", (c) => ok(c, { schedules: script(c.var.account.id, c.req.param("name")).schedules }));
  app.put("/workers/scripts/:name/schedules", async (c) => {
    const s = script(c.var.account.id, c.req.param("name"));
    const schedules = parseSchedules(await readJson(c), s.schedules);
    scripts.update({ ...s, schedules });
    return ok(c, { schedules });
  });
  return app;
}
