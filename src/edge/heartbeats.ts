// Heartbeats from one isolate. Request-driven ones go out at most once per interval (an attempt
// counts, delivered or not, so an orchestrator that is down is not hit on every request); the
// cron trigger sends one regardless, so an idle Worker still reports. One send at a time. A
// failed send hands its window and rejections back for the next one. Sent with waitUntil by the
// caller: a heartbeat never delays a response.
import {
  HEARTBEAT_PATH,
  HeartbeatAnswerSchema,
  createHeartbeatRequest,
  type ConfigRejection,
  type Heartbeat,
  type HeartbeatAnswer,
} from "../kit/protocol/index.ts";
import type { CryptoKey } from "../kit/signing/index.ts";
import type { RejectionLog } from "./rejections.ts";
import type { Traffic, TrafficWindow } from "./traffic.ts";
import { TRACEPARENT_HEADER } from "../kit/trace-context.ts";
import type { TraceLog } from "./traces.ts";

export type HeartbeatState = { at: string; ok: boolean; status: number | null } | null;

export type Heartbeats = {
  /** Would maybeSend start one at `nowMs`? */
  due(nowMs: number): boolean;
  /** Starts a heartbeat if the interval has passed and none is in flight; the promise to waitUntil. */
  maybeSend(): Promise<void> | undefined;
  /** Starts one now unless one is in flight (cron). */
  send(): Promise<void>;
  last(): HeartbeatState;
  sent(): number;
};

export type HeartbeatDeps = {
  orchestratorUrl: string;
  key: CryptoKey;
  intervalMs: number;
  traffic: Traffic;
  rejections: RejectionLog;
  /** The spans of traced requests (traces.ts): sent back in heartbeats to an orchestrator that takes them. */
  traces?: TraceLog;
  /** The parts of a heartbeat that describe the isolate right now. */
  describe(): Pick<Heartbeat, "worker" | "target" | "versionId" | "configVersion" | "isolate" | "uptimeMs" | "totals">;
  /** Acts on the orchestrator's answer (e.g. a config version this isolate has not applied); awaited within the send. */
  onAnswer?: (answer: HeartbeatAnswer) => Promise<void> | void;
  now: () => number;
  fetch: typeof fetch;
  warn?: (message: string) => void;
};

export function createHeartbeats(deps: HeartbeatDeps): Heartbeats {
  const url = `${deps.orchestratorUrl}${HEARTBEAT_PATH}`;
  let lastAttemptAt = -Infinity;
  let inFlight: Promise<void> | undefined;
  let last: HeartbeatState = null;
  let sent = 0;

  /** One send; the orchestrator's answer when it was delivered. */
  async function deliver(window: TrafficWindow, rejections: ConfigRejection[]): Promise<HeartbeatAnswer | undefined> {
    const now = deps.now();
    let status: number | null = null;
    // The newest traced request's span is this request's parent (any orchestrator may ignore the
    // header); the spans themselves go in the body only to one that said it takes them.
    const traceparent = deps.traces?.takeLatest();
    const spans = deps.traces?.accepted ? deps.traces.take() : [];
    try {
      const heartbeat: Heartbeat = {
        ...deps.describe(),
        sentAt: new Date(now).toISOString(),
        window,
        rejections,
        ...(spans.length > 0 ? { spans } : {}),
      };
      const req = await createHeartbeatRequest(heartbeat, deps.key, { now: deps.now });
      const headers = traceparent ? { ...req.headers, [TRACEPARENT_HEADER]: traceparent } : req.headers;
      const res = await deps.fetch(url, { method: "POST", headers, body: req.body });
      status = res.status;
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`answered HTTP ${res.status}`);
      }
      sent++;
      last = { at: new Date(now).toISOString(), ok: true, status };
      return await readAnswer(res);
    } catch (e) {
      deps.traffic.restoreWindow(window);
      deps.rejections.restorePending(rejections);
      deps.traces?.restore(spans);
      if (last?.ok !== false)
        deps.warn?.(
          `cbo edge agent: heartbeat to ${url} failed (${e instanceof Error ? e.message : String(e)}); retrying on the next interval`,
        );
      last = { at: new Date(now).toISOString(), ok: false, status };
      return undefined;
    }
  }

  /** The answer if it is one; an empty or unknown body is fine (the heartbeat was delivered). */
  async function readAnswer(res: Response): Promise<HeartbeatAnswer | undefined> {
    try {
      const parsed = HeartbeatAnswerSchema.safeParse(JSON.parse(await res.text()));
      if (parsed.success && deps.traces) deps.traces.accepted = parsed.data.spans === true;
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  function send(): Promise<void> {
    if (inFlight) return inFlight;
    const now = deps.now();
    lastAttemptAt = now;
    const delivering = deliver(deps.traffic.takeWindow(now), deps.rejections.takePending());
    // The answer's follow-up (a config re-read) rides on the same waitUntil, but does not hold
    // the next heartbeat back.
    inFlight = delivering.then(() => undefined).finally(() => (inFlight = undefined));
    return delivering
      .then((answer) => (answer && deps.onAnswer ? deps.onAnswer(answer) : undefined))
      .then(
        () => undefined,
        () => undefined,
      );
  }

  const due = (nowMs: number) => inFlight === undefined && nowMs - lastAttemptAt >= deps.intervalMs;

  return {
    due,
    maybeSend: () => (due(deps.now()) ? send() : undefined),
    send,
    last: () => last,
    sent: () => sent,
  };
}
