// The mutating tools: release, rollback, config publish, secret rotation. Each does nothing unless
// called with `confirm: true`; without it, it reads what the change would touch and answers with
// that (needs_confirmation), so the agent can put it to the user. The daemon records each change
// under the agent's token, with `via: mcp:<tool>` (server.ts binds the client to the tool).
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { isTerminal, rollbackPreviewLines, waitPlace } from "../contract/index.ts";
import { compactConfigDiff, compactRelease } from "./compact.ts";
import { answer, follow, outcome, Wait } from "./follow.ts";
import { confineSecretFile, generateSecret, inspectSecretFile, MAX_SECRET_BYTES, readSecretFile } from "./secret-value.ts";
import { Confirm, defineTool, done, needsConfirmation, WorkerName, withToolHint, type AnyTool } from "./tool.ts";
import { diffText, planText } from "./tools-read.ts";

export const release = defineTool({
  name: "release",
  title: "Release a worker",
  description:
    "Releases a worker to its targets: canary wave first, traffic in steps, each step gated on the new version's health, automatic rollback of every touched target on failure. Mutating: needs confirm: true after the user agreed to the plan.",
  input: z
    .object({
      worker: WorkerName,
      force: z.boolean().optional().describe("Release even when no target would change (otherwise it ends `unchanged`)"),
      confirm: Confirm,
      allow_non_gradual: z
        .boolean()
        .optional()
        .describe("Only after the user agreed: the release changes Durable Object classes and goes 100% per target, one at a time"),
      confirm_class_deletion: z
        .boolean()
        .optional()
        .describe("Only after the user agreed: the release deletes or renames a Durable Object class (its objects are lost or moved)"),
      wait_seconds: Wait,
    })
    .strict(),
  mutating: true,
  async run({ worker, force, confirm, allow_non_gradual, confirm_class_deletion, wait_seconds }, ctx) {
    const { api } = ctx;
    if (confirm !== true) {
      const p = await api.plan(worker);
      return needsConfirmation([...(p.diff ? [diffText(p.diff)] : []), planText(p)].join("\n"), p);
    }
    const started = await api.release(worker, {
      ...(force ? { force: true } : {}),
      ...(allow_non_gradual !== undefined ? { allow_non_gradual } : {}),
      ...(confirm_class_deletion !== undefined ? { confirm_class_deletion } : {}),
    });
    return answer(await follow(ctx, started, wait_seconds ?? 45), "Release");
  },
});

export const rollback = defineTool({
  name: "rollback",
  title: "Roll a worker back",
  description:
    "Moves every target of a worker at once (no gates) to an earlier version and the secret versions it shipped with (the signed config stays; D1 schemas stay). Without confirm it answers the preview: per target the code, secret and config versions. Mutating: needs confirm: true after the user agreed, and confirm_secret_downgrade: true for a secret downgrade.",
  input: z
    .object({
      worker: WorkerName,
      to: z
        .string()
        .regex(
          /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/,
          "not a release or version id: letters, digits and dashes (the releases and versions tools list them)",
        )
        .optional()
        .describe("A release id or version id; default: the last release that succeeded before the one being undone"),
      confirm: Confirm,
      confirm_secret_downgrade: z
        .boolean()
        .optional()
        .describe("Only after the user agreed: the rollback pins a secret to an older version than now"),
      force: z.boolean().optional().describe("Only after the user agreed: roll back onto a schema a migration marks incompatible"),
      wait_seconds: Wait,
    })
    .strict(),
  mutating: true,
  async run({ worker, to, confirm, confirm_secret_downgrade, force, wait_seconds }, ctx) {
    const { api } = ctx;
    // The preview is the daemon's: where each target goes (code, secrets, config) and the schema that stays.
    const preview = await withToolHint(
      api.rollbackPreview(worker, to),
      "ERR_NOT_FOUND",
      "Pass `to`: a version id or a release id. The versions tool lists each target's versions with the release that uploaded them; releases lists the releases.",
    );
    const text = rollbackPreviewLines(preview).join("\n");
    if (confirm !== true) return needsConfirmation(text, preview);
    if (preview.refused) throw new CboError("ERR_CONFLICT", `Refused: ${preview.refused}.`);
    if (preview.needs.force && force !== true)
      return needsConfirmation(
        `${text}\nA newer migration marks the old code incompatible: call again with force: true only if the user agrees.`,
        preview,
      );
    if (preview.needs.confirmSecretDowngrade && confirm_secret_downgrade !== true)
      return needsConfirmation(
        `${text}\nThis pins an older secret version: call again with confirm_secret_downgrade: true only after the user agreed to that downgrade.`,
        preview,
      );
    const started = await api.rollback(worker, to, {
      ...(confirm_secret_downgrade !== undefined ? { confirm_secret_downgrade } : {}),
      ...(force !== undefined ? { force } : {}),
    });
    return answer(await follow(ctx, started, wait_seconds ?? 45), "Rollback");
  },
});

export const releaseControl = defineTool({
  name: "release_control",
  title: "Pause, resume, promote or abort a running release",
  description:
    "Controls a running release: pause (no target starts another step until resume), resume, promote (go on past a {pause: approve} or timed pause step the targets wait at), abort (stop and roll back every touched target). After promote or resume it follows the release (as release does) to its end or the next approval. Without confirm: true it answers what the release waits for now. Mutating: needs confirm: true after the user agreed.",
  input: z
    .object({
      release_id: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/, "not a release id: letters, digits and dashes (the releases tool lists them)")
        .describe("The release's id"),
      action: z.enum(["pause", "resume", "promote", "abort"]),
      reason: z.string().trim().min(1).max(500).optional().describe("Why (kept in the audit log)"),
      confirm: Confirm,
      wait_seconds: Wait,
    })
    .strict(),
  mutating: true,
  async run({ release_id, action, reason, confirm, wait_seconds }, ctx) {
    const { api } = ctx;
    if (confirm !== true) {
      const [control, { release }] = await Promise.all([api.releaseControl(release_id), api.getRelease(release_id)]);
      // An ended release has nothing left to control: asking the user to confirm would only lead
      // to the daemon's refusal (ERR_CONFLICT) after they agreed.
      if (isTerminal(release.status))
        throw new CboError("ERR_CONFLICT", `Release ${release_id} already ended (${release.status}): there is nothing to ${action}.`, {
          hint: "release_show says how it ended; the releases tool lists the ones still running.",
          details: { releaseId: release_id, status: release.status },
        });
      const waits = control.waiting.map(
        (w) => `  ${w.target}: ${w.kind} ${waitPlace(w.percent, "at")}${w.until ? ` until ${w.until}` : ""}`,
      );
      return needsConfirmation(
        [`Would ${action} release ${release_id}.`, control.paused ? "It is paused now." : "It is not paused.", ...waits].join("\n"),
        control,
      );
    }
    if (action === "abort") {
      const r = await api.abortRelease(release_id, reason);
      return answer({ release: r }, "Release");
    }
    const call = { pause: api.pauseRelease, resume: api.resumeRelease, promote: api.promoteRelease }[action];
    const result = await call(release_id, reason);
    const data = { ...result, release: compactRelease(result.release) };
    // A pause holds the release by design: nothing to follow. Promote and resume let it go on, so
    // the answer follows it to its end or to the next step that waits for the user, as release does.
    if (action === "pause") return done(`Release ${release_id}: paused; release_control resume goes on.`, data);
    const followed = await follow(ctx, result.release, wait_seconds ?? 45);
    return done(`${action} done. ${outcome(followed, "Release")}`, { ...data, release: compactRelease(followed.release) });
  },
});

export const configPublish = defineTool({
  name: "config_publish",
  title: "Publish edge config",
  description:
    "Signs the config orchestrator.yaml declares for a worker into a new version per target, writes it to each target's KV and tells the Workers to refresh. Mutating: needs confirm: true after the user saw the diff.",
  input: z
    .object({ worker: WorkerName, force: z.boolean().optional().describe("Publish even when nothing changed"), confirm: Confirm })
    .strict(),
  mutating: true,
  async run({ worker, force, confirm }, { api }) {
    if (confirm !== true) {
      const diff = await api.configDiff(worker);
      const changed = diff.filter((d) => d.changed).map((d) => d.target);
      const what = changed.length
        ? `the changed config on ${changed.join(", ")}`
        : force
          ? "the unchanged config again (force)"
          : "nothing (no target's config changed; force: true publishes anyway)";
      return needsConfirmation(
        `Would sign and publish ${what} for ${worker}, then poke its Workers to refresh.`,
        diff.map(compactConfigDiff),
      );
    }
    const r = await api.configPublish(worker, { force: force ?? false });
    return done(
      `Published config version ${r.version} of ${worker} to ${
        r.targets
          .filter((t) => t.written)
          .map((t) => t.target)
          .join(", ") || "no target"
      }.`,
      r,
    );
  },
});

export const secretRotate = defineTool({
  name: "secret_rotate",
  title: "Rotate a secret",
  description: `Writes a new version of a vault secret from a file on the orchestrator's machine (from_file, byte for byte, at most ${MAX_SECRET_BYTES} bytes, only inside the directory the operator gave cbo mcp with --secret-files) or a freshly generated random value (generate_bytes). The value is never returned, shown or logged. deliver: true then starts a gated release of every worker that uses it. Mutating: needs confirm: true after the user agreed.`,
  input: z
    .object({
      name: z
        .string()
        .regex(
          /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/,
          "not a secret name: a letter or _, then letters, digits, _ . - (the secrets tool lists them)",
        )
        .describe("Secret name"),
      from_file: z
        .string()
        .min(1)
        .optional()
        .describe("Absolute path of a file holding the new value (the user names it; never the value itself)"),
      generate_bytes: z
        .number()
        .int()
        .min(16)
        .max(256)
        .optional()
        .describe("Generate a random value of this many bytes (base64url text) instead of reading a file"),
      deliver: z.boolean().optional().describe("Then release every worker that uses the secret (canary first, gated)"),
      confirm: Confirm,
    })
    .strict(),
  mutating: true,
  async run({ name, from_file, generate_bytes, deliver, confirm }, { api, secretFilesDir }) {
    if ((from_file === undefined) === (generate_bytes === undefined)) {
      throw new CboError("ERR_VALIDATION", "Give exactly one of from_file (a path) or generate_bytes (a length).", {
        hint: "Never pass a secret value itself: it would stay in the conversation.",
      });
    }
    // Refused before anything is asked of the daemon: a path outside --secret-files is never opened.
    const file = from_file !== undefined ? confineSecretFile(from_file, secretFilesDir) : undefined;
    const current = (await api.listSecrets()).find((s) => s.name === name);
    if (!current || current.deleted) {
      throw new CboError("ERR_NOT_FOUND", `No secret named "${name}" in the vault${current?.deleted ? " (it is deleted)" : ""}.`, {
        hint: "Rotation replaces an existing secret; the operator creates new ones with `cbo secrets set`.",
      });
    }
    const source = file !== undefined ? fileSource(from_file!, file) : `a new random value (${generate_bytes} bytes, base64url)`;
    if (confirm !== true) {
      return needsConfirmation(
        `Would write version ${current.version + 1} of ${name} (${current.mode}) from ${source}${deliver ? ", then start a gated release of every worker that uses it" : "; Workers get it with their next release (deliver: true releases them now)"}.`,
        { name, currentVersion: current.version, mode: current.mode, deliver: deliver ?? false },
      );
    }
    const value = file !== undefined ? readSecretFile(file) : generateSecret(generate_bytes!);
    let written: { name: string; version: number };
    try {
      // cas: a concurrent change between the read above and this write is refused, not overwritten.
      written = await api.putSecret(name, { value: value.toString("base64"), encoding: "base64", cas: current.version });
    } finally {
      value.fill(0);
    }
    if (!deliver)
      return done(`${name} is now at version ${written.version}; Workers get it with their next release.`, {
        name,
        version: written.version,
      });
    const d = await api.deliverSecret(name);
    return done(
      `${name} is now at version ${written.version}; delivering through release(s) ${d.releases.map((r) => `${r.releaseId} (${r.worker})`).join(", ")}.`,
      { name, version: written.version, releases: d.releases },
    );
  },
});

function fileSource(path: string, real: string): string {
  const f = inspectSecretFile(real);
  return `${path} (${f.bytes} bytes${f.readableByOthers ? "; warning: other users can read this file" : ""})`;
}

export const WRITE_TOOLS: AnyTool[] = [release, rollback, releaseControl, configPublish, secretRotate];
