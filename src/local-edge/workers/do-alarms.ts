// Durable Object alarms for classes that run as facets (durable-objects.ts). workerd refuses
// `setAlarm()` inside a facet ("Facets currently cannot set alarms"), so the edge keeps each
// object's alarm on its host, a real Durable Object whose alarms workerd runs:
//
//   user code            ctx.storage.setAlarm(t) / getAlarm() / deleteAlarm()
//     -> patched storage  (in the loaded Worker: withAlarmsSource below)
//     -> DoAlarms         (an RPC entrypoint of the router, per script: class -> namespace)
//     -> DoHost           stores {namespace, class, object}, sets its own alarm at t
//   at t: DoHost.alarm()  runs the object's alarm(alarmInfo) on the version the deployment serves it
//                         now; a throw makes workerd retry it, with backoff, as at Cloudflare.
//
// In the loaded Worker, the main module gets a few lines appended: for each Durable Object class
// of the script, an export `__cbo_do_<Class>` that extends the user's class, patches the alarm
// methods of its `ctx.storage` before the user's constructor runs, and adds the method the host
// calls. The host asks the Worker Loader for that export instead of the class itself.
import { KV_BACKED_SOURCE } from "./do-kv-backed.ts";

export const ALARMS_ENV_KEY = "__CBO_DO_ALARMS";
export const WRAPPED_PREFIX = "__cbo_do_";
export const RUN_ALARM = "__cbo_runAlarm";

const IDENT = /^[A-Za-z_$][\w$]*$/;

/**
 * Whether `storage.deleteAll()` also deletes the object's alarm: from compatibility date
 * 2026-02-24 on (Cloudflare changelog "deleteAll() now deletes Durable Object alarm", 2026-02-24),
 * or with the flag delete_all_deletes_alarm; delete_all_preserves_alarm keeps the old behaviour.
 * The flag names are workerd's (the bundled workerd's compatibility flags), and plain workerd does
 * the same on each side of the date (checked against it, test/edge-do-alarms.test.ts).
 */
export function deleteAllDeletesAlarm(compatibilityDate: string, compatibilityFlags: readonly string[]): boolean {
  if (compatibilityFlags.includes("delete_all_deletes_alarm")) return true;
  if (compatibilityFlags.includes("delete_all_preserves_alarm")) return false;
  return compatibilityDate >= "2026-02-24";
}

export type WrapOptions = {
  /** As deleteAllDeletesAlarm() says for the version. */
  deletesAlarm?: boolean;
  /**
   * The classes made by `new_classes`: they lose every SQLite-only storage API (do-kv-backed.ts),
   * which the facet they run in always has but a key-value-backed class at Cloudflare does not.
   */
  kvBacked?: readonly string[];
  /** As capturesAsyncThrows() says for the version: the refused async APIs reject rather than throw. */
  rejectsAsync?: boolean;
};

/** The lines appended to the main module `mainModule` for the Durable Object classes `classes`. */
export function withAlarmsSource(mainModule: string, classes: string[], opts: WrapOptions = {}): string {
  const { deletesAlarm = false, kvBacked = [], rejectsAsync = true } = opts;
  const self = `./${mainModule.slice(mainModule.lastIndexOf("/") + 1)}`;
  const exports = classes
    .filter((c) => IDENT.test(c))
    .map(
      (c) =>
        `export const ${WRAPPED_PREFIX}${c} = __cbo_withAlarms(__cbo_self[${JSON.stringify(c)}], ${JSON.stringify(c)}, ${kvBacked.includes(c)});`,
    )
    .join("\n");
  // One line before the exports, so the user's line numbers stay as they were.
  //
  // Alarm changes made in a transaction are held in the transaction and reach the host only when it
  // commits: workerd rolls a transaction's setAlarm()/deleteAlarm() back with its writes, whether the
  // callback throws or calls txn.rollback(), and so does transactionSync() (checked against plain
  // workerd). A held time is checked here in workerd's words, since the host sees it only later.
  return `
import * as __cbo_self from ${JSON.stringify(self)}; import { env as __cbo_env } from "cloudflare:workers";
function __cbo_alarmTime(t) {
  const at = t instanceof Date ? t.getTime() : Number(t);
  if (!Number.isFinite(at)) throw new TypeError("setAlarm() needs a time: a Date or milliseconds since the epoch.");
  if (at * 1e6 >= 9223372036854775807) throw new TypeError("This API doesn't support dates after 2189.");
  if (at * 1e6 <= -9223372036854775808) throw new TypeError("This API doesn't support dates before 1687.");
  if (at <= 0) throw new TypeError("setAlarm() cannot be called with an alarm time <= 0");
  return at;
}
${KV_BACKED_SOURCE}
function __cbo_withAlarms(Base, className, kvBacked) {
  if (typeof Base !== "function") return undefined;
  const alarms = () => __cbo_env[${JSON.stringify(ALARMS_ENV_KEY)}];
  const deletesAlarm = ${deletesAlarm ? "true" : "false"};
  return class extends Base {
    constructor(ctx, env) {
      const id = String(ctx.id);
      const storage = ctx.storage;
      const time = (t) => (t instanceof Date ? t.getTime() : Number(t));
      const mustHaveAlarm = () => {
        // Cloudflare's words when the class cannot run one.
        if (typeof Base.prototype.alarm !== "function")
          throw new Error("Your Durable Object class must have an alarm() handler in order to call setAlarm()");
      };
      // transactionSync()'s alarm change while its callback runs: undefined (none running), else
      // { change?: { at: number | null } }; once it commits, the change on its way to the host.
      let held;
      let landing = Promise.resolve();
      const define = (o, name, value) => Object.defineProperty(o, name, { configurable: true, value });
      define(storage, "setAlarm", async (t) => {
        mustHaveAlarm();
        if (held) return void (held.change = { at: __cbo_alarmTime(t) });
        await landing;
        await alarms().set(className, id, time(t));
      });
      define(storage, "getAlarm", async () => {
        if (held?.change) return held.change.at;
        await landing;
        return alarms().get(className, id);
      });
      define(storage, "deleteAlarm", async () => {
        if (held) return void (held.change = { at: null });
        await landing;
        await alarms().delete(className, id);
      });
      const apply = async (change) => {
        if (!change) return;
        if (change.at === null) await alarms().delete(className, id);
        else await alarms().set(className, id, change.at);
      };
      const deleteAll = storage.deleteAll.bind(storage);
      define(storage, "deleteAll", (...a) => {
        // Decided now: inside transactionSync() the alarm goes with the transaction.
        const now = deletesAlarm && !held;
        if (deletesAlarm && held) held.change = { at: null };
        return deleteAll(...a).then(async (r) => {
          if (now) {
            await landing;
            await alarms().delete(className, id);
          }
          return r;
        });
      });
      const transaction = storage.transaction.bind(storage);
      define(storage, "transaction", async (fn) => {
        const mine = {};
        let rolledBack = false;
        const result = await transaction((txn) => {
          const rollback = txn.rollback.bind(txn);
          define(txn, "rollback", () => { rolledBack = true; return rollback(); });
          define(txn, "setAlarm", async (t) => { mustHaveAlarm(); mine.change = { at: __cbo_alarmTime(t) }; });
          define(txn, "getAlarm", async () => (mine.change ? mine.change.at : landing.then(() => alarms().get(className, id))));
          define(txn, "deleteAlarm", async () => { mine.change = { at: null }; });
          return fn(txn);
        });
        if (!rolledBack) await apply(mine.change);
        return result;
      });
      if (typeof storage.transactionSync === "function") {
        const transactionSync = storage.transactionSync.bind(storage);
        define(storage, "transactionSync", (fn) => {
          held = {};
          try {
            const result = transactionSync(fn);
            const change = held.change;
            landing = landing.then(() => apply(change)).catch((e) => console.error("Durable Object alarm change of a transactionSync() not applied:", e));
            return result;
          } finally {
            held = undefined;
          }
        });
      }
      // Last, over the transactionSync() above: a key-value-backed class has none of it.
      if (kvBacked) __cbo_kvBacked(storage, ${rejectsAsync ? "true" : "false"});
      super(ctx, env);
    }
    async ${RUN_ALARM}(info) {
      if (typeof this.alarm !== "function") return false;
      await this.alarm(info);
      return true;
    }
  };
}
${exports}
`;
}
