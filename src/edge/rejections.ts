// Config bundles the agent refused: the last few for the health route, and those not yet carried
// by a delivered heartbeat. Bounded both ways; when more pile up than one heartbeat carries, the
// oldest are dropped and counted, since the newest say most about the KV value now.
import { MAX_HEARTBEAT_REJECTIONS, type ConfigRejection } from "../kit/protocol/index.ts";

const RECENT = 10;

export type RejectionLog = {
  add(entry: ConfigRejection): void;
  recent(): ConfigRejection[];
  total(): number;
  dropped(): number;
  takePending(): ConfigRejection[];
  /** Refusals no delivered heartbeat has carried yet. */
  hasPending(): boolean;
  restorePending(entries: ConfigRejection[]): void;
};

export function createRejectionLog(): RejectionLog {
  let recent: ConfigRejection[] = [];
  let pending: ConfigRejection[] = [];
  let total = 0;
  let dropped = 0;
  const keepPending = (list: ConfigRejection[]) => {
    const over = list.length - MAX_HEARTBEAT_REJECTIONS;
    if (over > 0) dropped += over;
    return over > 0 ? list.slice(over) : list;
  };
  return {
    add(entry) {
      total++;
      recent = [...recent.slice(-(RECENT - 1)), entry];
      pending = keepPending([...pending, entry]);
    },
    recent: () => recent,
    total: () => total,
    dropped: () => dropped,
    takePending() {
      const taken = pending;
      pending = [];
      return taken;
    },
    hasPending: () => pending.length > 0,
    restorePending(entries) {
      pending = keepPending([...entries, ...pending]);
    },
  };
}
