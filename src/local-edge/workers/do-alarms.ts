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
export const ALARMS_ENV_KEY = "__CBO_DO_ALARMS";
export const WRAPPED_PREFIX = "__cbo_do_";
export const RUN_ALARM = "__cbo_runAlarm";

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The lines appended to the main module `mainModule` for the Durable Object classes `classes`. */
export function withAlarmsSource(mainModule: string, classes: string[]): string {
  const self = `./${mainModule.slice(mainModule.lastIndexOf("/") + 1)}`;
  const exports = classes
    .filter((c) => IDENT.test(c))
    .map((c) => `export const ${WRAPPED_PREFIX}${c} = __cbo_withAlarms(__cbo_self[${JSON.stringify(c)}], ${JSON.stringify(c)});`)
    .join("\n");
  // One line before the exports, so the user's line numbers stay as they were.
  return `
import * as __cbo_self from ${JSON.stringify(self)}; import { env as __cbo_env } from "cloudflare:workers";
function __cbo_withAlarms(Base, className) {
  if (typeof Base !== "function") return undefined;
  const alarms = () => __cbo_env[${JSON.stringify(ALARMS_ENV_KEY)}];
  return class extends Base {
    constructor(ctx, env) {
      const id = String(ctx.id);
      const storage = ctx.storage;
      const time = (t) => (t instanceof Date ? t.getTime() : Number(t));
      // On the storage and on a transaction's txn (there the alarm is not rolled back with it).
      const patch = (o) => {
        Object.defineProperty(o, "setAlarm", {
          configurable: true,
          value: async (t) => {
            // Cloudflare's words when the class cannot run one.
            if (typeof Base.prototype.alarm !== "function")
              throw new Error("Your Durable Object class must have an alarm() handler in order to call setAlarm()");
            await alarms().set(className, id, time(t));
          },
        });
        Object.defineProperty(o, "getAlarm", { configurable: true, value: async () => alarms().get(className, id) });
        Object.defineProperty(o, "deleteAlarm", { configurable: true, value: async () => { await alarms().delete(className, id); } });
        return o;
      };
      patch(storage);
      const transaction = storage.transaction.bind(storage);
      Object.defineProperty(storage, "transaction", { configurable: true, value: (fn) => transaction((txn) => fn(patch(txn))) });
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
