// What `wrangler delete` reads before it deletes a Worker, and the delete it then sends:
// `GET …/scripts/:name/references` (other Workers' service and Durable Object bindings to it),
// `GET …/workers/tails/by-consumer/:name` (Workers that name it as a tail consumer) and
// `DELETE …/workers/services/:name?force=` (refused without force for a queue's consumer too). A Worker's references are the bindings of the
// versions its current deployment serves, as those are what a delete would break.
import { Hono } from "hono";
import type { QueueStore } from "../state/queues.ts";
import type { ScriptStore } from "../state/scripts.ts";
import type { WorkerStores } from "../state/worker-stores.ts";
import type { Binding } from "../state/model.ts";
import { CF_CODES, CfApiError, notFoundScript, ok } from "./envelope.ts";
import type { Ops } from "./operations.ts";
import type { EdgeEnv } from "./routes-workers.ts";

type Ref = { name: string; service: string; environment: string };

export function referencesRoutes(deps: {
  scripts: ScriptStore;
  ops: Ops;
  stores: WorkerStores;
  /** Absent when the edge runs without its data APIs (no queues, so no consumers). */
  queues?: Pick<QueueStore, "list" | "consumers">;
}) {
  const { scripts } = deps;
  const { dos } = deps.stores;
  const app = new Hono<EdgeEnv>();

  /** The bindings of every version the script's current deployment serves. */
  const liveBindings = (acct: string, script: string): Binding[] =>
    (scripts.currentDeployment(acct, script)?.versions ?? []).flatMap((e) => scripts.getVersion(e.version_id)?.bindings ?? []);

  const references = (acct: string, name: string) => {
    const incoming: Ref[] = [];
    const durableObjects: Array<Ref & { durable_object_namespace_id: string; durable_object_namespace_name: string }> = [];
    for (const other of scripts.list(acct)) {
      for (const b of liveBindings(acct, other.name)) {
        if (b.type === "service" && b.service === name && other.name !== name)
          incoming.push({ name: b.name, service: other.name, environment: "production" });
        if (b.type === "durable_object_namespace" && (b.script_name ?? other.name) === name) {
          const ns = dos.byClass(acct, name, String(b.class_name));
          if (ns)
            durableObjects.push({
              name: b.name,
              service: other.name,
              environment: "production",
              durable_object_namespace_id: ns.id,
              durable_object_namespace_name: `${ns.script}_${ns.class}`,
            });
        }
      }
    }
    const outgoing: Ref[] = liveBindings(acct, name)
      .filter((b) => b.type === "service")
      .map((b) => ({
        name: b.name,
        service: String(b.service),
        environment: typeof b.environment === "string" ? b.environment : "production",
      }));
    return { services: { incoming, outgoing, pages_function: false }, durable_objects: durableObjects, dispatch_outbounds: [] };
  };

  /** Workers whose tail_consumers name `name`, in the shape of Cloudflare's tails list. */
  const tailProducers = (acct: string, name: string) =>
    scripts
      .list(acct)
      .filter((s) => {
        const consumers = s.settings.tail_consumers;
        return Array.isArray(consumers) && consumers.some((t) => (t as { service?: unknown }).service === name);
      })
      .map((s) => ({
        tag: s.tag,
        producer: { script: s.name },
        consumer: { script: name },
        log_push: false,
        created_on: s.created_on,
        modified_on: s.modified_on,
      }));

  const existing = (acct: string, name: string) => {
    if (!scripts.get(acct, name)) throw notFoundScript(name);
    return name;
  };

  app.get("/workers/scripts/:name/references", (c) => ok(c, references(c.var.account.id, existing(c.var.account.id, c.req.param("name")))));
  // wrangler 4.1xx's delete asks which Containers applications the Worker's Durable Objects own:
  // the local edge runs no Containers, so none (without this it warns that it could not check).
  app.get("/containers/applications", (c) => ok(c, []));
  app.get("/workers/tails/by-consumer/:name", (c) => ok(c, tailProducers(c.var.account.id, c.req.param("name"))));
  // Without `force`, a Worker others depend on is kept (Cloudflare: "delete will not be stopped by
  // associated bindings" only with force=true); wrangler asks first and then sends force=true.
  app.delete("/workers/services/:name", async (c) => {
    const acct = c.var.account.id;
    const name = existing(acct, c.req.param("name"));
    if (c.req.query("force") !== "true") {
      // A queue's consumer first, in Cloudflare's words: wrangler's delete does not look for these,
      // so it sends force=false and the API's refusal is what the user reads.
      const queues = deps.queues;
      const consumed = (queues?.list(acct) ?? [])
        .filter((q) => queues!.consumers(q.id).some((k) => k.type === "worker" && k.script === name))
        .map((q) => q.name);
      if (consumed.length > 0)
        throw new CfApiError(
          409,
          CF_CODES.SCRIPT_QUEUE_CONSUMER,
          `script still in use as a consumer for a queue: Worker ${name} consumes ${consumed.join(", ")}; delete its consumer first, or delete with force=true.`,
        );
      const refs = references(acct, name);
      const users = [
        ...refs.services.incoming.map((r) => r.service),
        ...refs.durable_objects.filter((r) => r.service !== name).map((r) => r.service),
        ...tailProducers(acct, name).map((t) => t.producer.script),
      ];
      if (users.length > 0)
        throw new CfApiError(
          409,
          CF_CODES.SCRIPT_IN_USE,
          `Worker ${name} is used by other Workers (${[...new Set(users)].join(", ")}); delete with force=true to delete it anyway.`,
        );
    }
    await deps.ops.deleteScript(acct, name);
    return ok(c, null);
  });
  return app;
}
