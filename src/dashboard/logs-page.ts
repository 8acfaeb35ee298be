// Logs: the Workers' log lines from every region as they arrive (WS /v1/logs/stream, on the
// session), newest first, after the kept ones (GET /v1/logs) when the daemon keeps them. Filters:
// worker (choosing one keeps its tail sessions open while the page is shown), target, status and
// text; changing one starts the view again. A viewer sees lines as they are shipped (redacted).
//
// Stream states: connecting --open--> live --close--> retrying --(backoff)--> connecting …
//   --refused (unknown worker, session ended)--> stopped, with the reason shown.
import type { LogStreamQuery } from "../contract/index.ts";
import { isCboError } from "../kit/errors.ts";
import { backoffDelay } from "../kit/backoff.ts";
import type { El, Field } from "./browser.ts";
import { badge, failure, h, put, short, when } from "./dom.ts";
import { debounce, keepQuery, type Page } from "./page.ts";
import type { LogLine, WorkerSummary } from "./types.ts";

/** Lines kept on screen; older ones scroll away. */
const MAX_SHOWN = 300;

const part = (p: unknown) => (typeof p === "string" ? p : JSON.stringify(p));

function lineView(l: LogLine): El {
  const req = l.event.request;
  const what = req
    ? `${req.method} ${req.url}${l.status !== null ? ` → ${l.status}` : ""}`
    : l.event.cron
      ? `cron ${l.event.cron}`
      : l.event.kind;
  return h(
    "li",
    {
      class: `log-line verdict-${l.verdict}`,
      "data-target": l.target,
      "data-worker": l.worker,
      "data-verdict": l.verdict,
      "data-id": l.id ?? "",
    },
    h(
      "div",
      { class: "log-head" },
      h("time", { datetime: l.time }, when(l.time)),
      h("span", { class: "target" }, l.target),
      h("strong", {}, l.worker),
      h("code", { title: l.versionId ?? "" }, short(l.versionId)),
      h("span", { class: "what" }, what),
      badge(l.verdict === "ok" ? "ok" : "error", "outcome"),
      l.outcome !== "ok" ? h("span", { class: "muted" }, l.outcome) : null,
    ),
    ...l.logs.map((c) =>
      h(
        "div",
        { class: `console level-${c.level.replace(/[^a-z]/g, "")}` },
        h("span", { class: "level" }, c.level),
        c.message.map(part).join(" "),
      ),
    ),
    ...l.exceptions.map((e) =>
      h("div", { class: "console level-error" }, h("span", { class: "level" }, "exception"), `${e.name}: ${e.message}`),
    ),
  );
}

export const logsPage: Page = (root, ctx, route) => {
  const worker = h("select", { id: "logs-worker", name: "worker" }, h("option", { value: "" }, "kept workers")) as Field;
  const target = h("select", { id: "logs-target", name: "target" }, h("option", { value: "" }, "all targets")) as Field;
  const status = h(
    "select",
    { id: "logs-status", name: "status" },
    ...["", "ok", "error"].map((s) => h("option", { value: s }, s || "any")),
  ) as Field;
  const text = h("input", { id: "logs-search", name: "search", type: "search", placeholder: "text in a line or URL" }) as Field;
  const state = h("span", { class: "live", role: "status", "data-state": "connecting" }, "connecting…");
  const note = h("p", { class: "muted logs-note" });
  const list = h("ol", { class: "log-lines", "aria-live": "polite", "aria-relevant": "additions" });
  const field = (label: string, el: Field) => h("div", { class: "field" }, h("label", { for: el.id }, label), el);
  put(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "Logs"), state),
    h(
      "form",
      { class: "filters", role: "search", "aria-label": "Filter the logs", onsubmit: (e) => (e.preventDefault(), restart()) },
      field("Worker", worker),
      field("Target", target),
      field("Status", status),
      field("Text", text),
    ),
    note,
    list,
  );

  let conn: { close(): void } | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let generation = 0;
  let disposed = false;
  let keptWorkers: { enabled: boolean; workers: string[] } | undefined;
  const setState = (s: "connecting" | "live" | "retrying" | "ended", words: string) => {
    state.setAttribute("data-state", s);
    put(state, words);
  };

  const filter = (): LogStreamQuery => ({
    ...(worker.value ? { worker: worker.value } : {}),
    ...(target.value ? { target: target.value } : {}),
    ...(status.value ? { status: status.value as "ok" | "error" } : {}),
    ...(text.value.trim() ? { search: text.value.trim() } : {}),
  });

  function show(lines: LogLine[], atTop: boolean): void {
    const views = lines.map(lineView);
    if (atTop) list.prepend(...views);
    else list.append(...views);
    while (list.children.length > MAX_SHOWN) list.children[list.children.length - 1]!.remove();
  }

  function connect(gen: number): void {
    setState("connecting", "connecting…");
    conn = ctx.api.connectLogs(filter(), {
      onOpen() {
        attempt = 0;
        setState("live", "live");
      },
      onLine(l) {
        if (gen === generation) show([l], true);
      },
      onEnd(error) {
        if (disposed || gen !== generation) return;
        if (error?.isUserError) {
          setState("ended", "stopped");
          put(note, failure(error));
          return;
        }
        setState("retrying", "reconnecting…");
        retry = setTimeout(() => connect(gen), 200 + backoffDelay(attempt++, { baseMs: 500, maxMs: 5_000 }));
      },
    });
  }

  async function restart(): Promise<void> {
    const gen = ++generation;
    keepQuery({ worker: worker.value, target: target.value, status: status.value, search: text.value.trim() });
    conn?.close();
    if (retry) clearTimeout(retry);
    put(list);
    put(note);
    // Live first, so that nothing between the two reads is missed; kept lines go below it.
    connect(gen);
    try {
      keptWorkers ??= (await ctx.api.logsStatus()).kept;
      const keeps = keptWorkers.enabled && (!worker.value || keptWorkers.workers.includes(worker.value));
      if (!keeps) {
        if (gen === generation)
          put(
            note,
            worker.value
              ? `The logs of ${worker.value} are not kept (logs.workers in orchestrator.yaml): live lines only.`
              : "No worker's logs are kept (logs: in orchestrator.yaml). Choose a worker to follow its logs live.",
          );
        return;
      }
      const kept = await ctx.api.logs({ ...filter(), limit: 100 });
      if (gen !== generation) return;
      show(kept.reverse(), false);
      if (kept.length === 0 && !worker.value) put(note, "No kept lines yet. Choose a worker to follow its logs live.");
    } catch (e) {
      if (gen !== generation) return;
      put(note, isCboError(e) && e.code === "ERR_CONFLICT" ? `${e.message} Live lines only.` : failure(e));
    }
  }

  const typed = debounce(() => void restart(), 300);
  for (const el of [worker, target, status]) el.addEventListener("change", () => void restart());
  text.addEventListener("input", () => typed());

  // A deep link (#/logs?worker=x&target=eu&status=error&search=…) follows what it names: the
  // stream starts once the choices are there to show it.
  const asked = (k: string) => route.query.get(k) ?? "";
  if (asked("status") === "ok" || asked("status") === "error") status.value = asked("status");
  text.value = asked("search");
  void (async () => {
    try {
      const workers: WorkerSummary[] = await ctx.api.workers();
      for (const w of workers) worker.append(h("option", { value: w.name }, w.name));
      for (const t of [...new Set(workers.flatMap((w) => w.targets))]) target.append(h("option", { value: t }, t));
      if (workers.some((w) => w.name === asked("worker"))) worker.value = asked("worker");
      if (workers.some((w) => w.targets.includes(asked("target")))) target.value = asked("target");
    } catch {
      // The stream's own errors say what is wrong.
    }
    if (!disposed) void restart();
  })();

  return {
    dispose() {
      disposed = true;
      generation++;
      typed.cancel();
      if (retry) clearTimeout(retry);
      conn?.close();
    },
  };
};
