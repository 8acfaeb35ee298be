// A Worker's settings outside its code (CLOUDFLARE-API-FLEET §8.1, §8.5). Two endpoints:
//   …/script-settings  logpush, observability, tail consumers, tags: the script's own, changed
//                      at once with no new version, never refused with 10214/10215 (what wrangler
//                      deploy and `versions deploy` PATCH; use it while a split is live)
//   …/settings         the latest version's settings (bindings, compatibility, placement,
//                      limits, …); PATCH makes a new version and is refused with 10214 while the
//                      latest version is not deployed at 100%
// Placement and limits travel in the upload metadata (upload.ts), as wrangler sends them.
import { type ApiContext, seg } from "./context.ts";
import { ScriptSettingsSchema, type ScriptSettings, VersionSettingsSchema, type VersionSettings } from "./schemas-scripts.ts";

export type TailConsumer = { service: string; environment?: string };

/** What PATCH …/script-settings changes: only the keys given. */
export type ScriptSettingsPatch = {
  logpush?: boolean;
  observability?: Record<string, unknown>;
  tail_consumers?: TailConsumer[];
  streaming_tail_consumers?: Array<{ service: string }>;
  tags?: string[];
};

export function createScriptSettingsApi(ctx: ApiContext) {
  const scriptPath = async (script: string) => `/accounts/${seg(await ctx.accountId())}/workers/scripts/${seg(script)}`;

  return {
    async getScriptSettings(script: string): Promise<ScriptSettings> {
      return ctx.json("GET", `${await scriptPath(script)}/script-settings`, ScriptSettingsSchema, {
        endpoint: "workers.script-settings.get",
      });
    },

    /** Changes the given keys at once, with no new version; the answer holds every setting. */
    async patchScriptSettings(script: string, patch: ScriptSettingsPatch): Promise<ScriptSettings> {
      return ctx.json("PATCH", `${await scriptPath(script)}/script-settings`, ScriptSettingsSchema, {
        endpoint: "workers.script-settings.patch",
        body: { ...patch },
      });
    },

    /** The latest version's settings: bindings (secrets without values), compatibility, placement, limits, … */
    async getVersionSettings(script: string): Promise<VersionSettings> {
      return ctx.json("GET", `${await scriptPath(script)}/settings`, VersionSettingsSchema, { endpoint: "workers.settings.get" });
    },

    /**
     * A new version with these settings changed, deployed at once (multipart `settings`, as
     * wrangler 4.86 sends it). Refused with 10214 while the latest version is not deployed at
     * 100%: prefer patchScriptSettings, or upload a version.
     */
    async patchVersionSettings(script: string, settings: Record<string, unknown>): Promise<VersionSettings> {
      const form = new FormData();
      form.set("settings", JSON.stringify(settings));
      return ctx.json("PATCH", `${await scriptPath(script)}/settings`, VersionSettingsSchema, {
        endpoint: "workers.settings.patch",
        body: form,
      });
    },
  };
}
