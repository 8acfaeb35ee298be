// Response objects of a Worker's script-level settings and triggers: cron schedules, routes,
// zones, custom domains, the workers.dev subdomain, script settings, and the static-assets upload
// (CLOUDFLARE-API-FLEET §5, §6, §8). Loose like schemas.ts.
import * as z from "zod";

export const ScheduleSchema = z.looseObject({
  cron: z.string(),
  created_on: z.string().nullish(),
  modified_on: z.string().nullish(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

export const SchedulesSchema = z.looseObject({ schedules: z.array(ScheduleSchema) });

export const WorkerRouteSchema = z.looseObject({
  id: z.string().nullish(),
  pattern: z.string(),
  script: z.string().nullish(),
  zone_id: z.string().nullish(),
  zone_name: z.string().nullish(),
});
export type WorkerRoute = z.infer<typeof WorkerRouteSchema>;

export const ZoneSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string().nullish(),
  account: z.looseObject({ id: z.string() }).nullish(),
});
export type Zone = z.infer<typeof ZoneSchema>;

export const CustomDomainSchema = z.looseObject({
  id: z.string(),
  hostname: z.string(),
  service: z.string(),
  environment: z.string().nullish(),
  zone_id: z.string().nullish(),
  zone_name: z.string().nullish(),
  enabled: z.boolean().nullish(),
  previews_enabled: z.boolean().nullish(),
});
export type CustomDomain = z.infer<typeof CustomDomainSchema>;

export const ScriptSubdomainSchema = z.looseObject({
  enabled: z.boolean(),
  previews_enabled: z.boolean().nullish(),
});
export type ScriptSubdomain = z.infer<typeof ScriptSubdomainSchema>;

const TailConsumer = z.looseObject({ service: z.string(), environment: z.string().nullish() });

/** `…/script-settings`: the settings that live outside versions. */
export const ScriptSettingsSchema = z.looseObject({
  logpush: z.boolean().nullish(),
  tail_consumers: z.array(TailConsumer).nullish(),
  streaming_tail_consumers: z.array(TailConsumer).nullish(),
  observability: z.record(z.string(), z.unknown()).nullish(),
  tags: z.array(z.string()).nullish(),
});
export type ScriptSettings = z.infer<typeof ScriptSettingsSchema>;

/** `…/settings`: the latest version's settings (bindings, compatibility, placement, limits, …). */
export const VersionSettingsSchema = z.looseObject({
  bindings: z.array(z.looseObject({ type: z.string(), name: z.string() })).nullish(),
  compatibility_date: z.string().nullish(),
  compatibility_flags: z.array(z.string()).nullish(),
  logpush: z.boolean().nullish(),
  placement: z.record(z.string(), z.unknown()).nullish(),
  limits: z.record(z.string(), z.unknown()).nullish(),
  tail_consumers: z.array(TailConsumer).nullish(),
  usage_model: z.string().nullish(),
  observability: z.record(z.string(), z.unknown()).nullish(),
});
export type VersionSettings = z.infer<typeof VersionSettingsSchema>;

/** `POST …/assets-upload-session`: the hashes to upload, in buckets, and the upload token. */
export const AssetsUploadSessionSchema = z.looseObject({
  jwt: z.string().min(1),
  buckets: z.array(z.array(z.string())).nullish(),
});

/** `POST /workers/assets/upload`: the completion token once the session's last file is in. */
export const AssetsUploadResultSchema = z.looseObject({ jwt: z.string().nullish() }).nullish();
