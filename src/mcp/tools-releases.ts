// The history tools: which releases ran and how they ended, one release's journal (why it failed),
// and a worker's versions (the ids `rollback` takes). Read-only; their answers hold the ids the
// mutating tools take, and leave out each release's stored plan (compact.ts).
import * as z from "zod";
import { compactJournal, compactRelease, journalLine } from "./compact.ts";
import { defineTool, done, WorkerName, type AnyTool } from "./tool.ts";

const ReleaseId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/, "not a release id: letters, digits and dashes (the releases tool lists them)")
  .describe("A release id (from releases, status or a release answer)");
const Cursor = z.string().min(1).max(2000).optional().describe("The previous answer's `next`, for the following page");

export const releases = defineTool({
  name: "releases",
  title: "List releases and rollbacks",
  description:
    "Releases and rollbacks, newest first: id, worker, kind, status (running, rolling_back, succeeded, rolled_back, failed, aborted, unchanged) and the reason it ended so. Read-only; release_show gives one release step by step.",
  input: z
    .object({
      worker: WorkerName.optional().describe("Only this worker's (default: all)"),
      limit: z.number().int().min(1).max(100).optional().describe("At most this many (default 10)"),
      cursor: Cursor,
    })
    .strict(),
  mutating: false,
  async run({ worker, limit, cursor }, { api }) {
    const page = await api.releases({ ...(worker ? { worker } : {}), limit: limit ?? 10, ...(cursor ? { cursor } : {}) });
    const items = page.items.map(compactRelease);
    const lines = items.map(
      (r) => `${r.id} ${r.kind} of ${r.worker}: ${r.status}${r.reason ? ` (${r.reason})` : ""}, ${r.created_at} by ${r.created_by ?? "-"}`,
    );
    const more = page.next ? [`More: call releases again with cursor "${page.next}".`] : [];
    return done([...(lines.length ? lines : ["No releases."]), ...more].join("\n"), { items, ...(page.next ? { next: page.next } : {}) });
  },
});

export const releaseShow = defineTool({
  name: "release_show",
  title: "One release, step by step",
  description:
    "One release or rollback: its status, the reason it ended so (e.g. which gate failed on which target at which step), and its journal, every step in order. Read-only; use it to answer why a release failed or how far it got.",
  input: z
    .object({
      release_id: ReleaseId,
      journal_limit: z.number().int().min(0).max(500).optional().describe("The last this many journal entries (default 30)"),
    })
    .strict(),
  mutating: false,
  async run({ release_id, journal_limit }, { api }) {
    const { release, journal } = await api.getRelease(release_id);
    const keep = journal_limit ?? 30;
    const shown = keep === 0 ? [] : journal.slice(-keep);
    const r = compactRelease(release);
    const summary = [
      `${r.kind} ${r.id} of ${r.worker}: ${r.status}${r.reason ? ` (${r.reason})` : ""}; started ${r.created_at} by ${r.created_by ?? "-"}, last change ${r.updated_at}.`,
      ...shown.map((j) => `  #${j.seq} ${j.at} ${journalLine(j)}`),
      ...(shown.length < journal.length
        ? [`  (${journal.length - shown.length} earlier journal entries left out; journal_limit shows more)`]
        : []),
    ];
    return done(summary.join("\n"), { release: r, journal: shown.map(compactJournal), journalEntries: journal.length });
  },
});

export const versions = defineTool({
  name: "versions",
  title: "A worker's versions",
  description:
    "A worker's newest versions per target, newest first, the live one marked, each with the release that uploaded it: the ids rollback's `to` takes. Read-only.",
  input: z
    .object({
      worker: WorkerName,
      limit: z.number().int().min(1).max(100).optional().describe("At most this many (default 20)"),
      cursor: Cursor,
    })
    .strict(),
  mutating: false,
  async run({ worker, limit, cursor }, { api }) {
    const page = await api.versions(worker, { limit: limit ?? 20, ...(cursor ? { cursor } : {}) });
    const lines = page.items.map(
      (v) =>
        `  ${v.target}: ${v.versionId}${v.live ? " LIVE" : ""}, ${v.createdAt}, release ${v.releaseId ?? "- (not uploaded by the orchestrator)"}`,
    );
    const more = page.next ? [`More: call versions again with cursor "${page.next}".`] : [];
    return done([`Versions of ${worker}, newest first:`, ...lines, ...more].join("\n"), page);
  },
});

export const RELEASE_TOOLS: AnyTool[] = [releases, releaseShow, versions];
