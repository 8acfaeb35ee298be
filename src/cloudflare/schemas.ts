// The response objects we read, checked where they enter the process. Loose on purpose: the API
// adds fields over time, and only the fields named here are relied on.
import * as z from "zod";

const Annotations = z.record(z.string(), z.unknown());

export const BindingSchema = z.looseObject({ type: z.string(), name: z.string() });
export type Binding = z.infer<typeof BindingSchema>;

export const VersionSchema = z.looseObject({
  id: z.string(),
  number: z.number().nullish(),
  metadata: z
    .looseObject({
      author_email: z.string().nullish(),
      created_on: z.string().nullish(),
      modified_on: z.string().nullish(),
      source: z.string().nullish(),
      has_preview: z.boolean().nullish(),
    })
    .nullish(),
  annotations: Annotations.nullish(),
  resources: z
    .looseObject({
      bindings: z.array(BindingSchema).nullish(),
      script: z.looseObject({ etag: z.string().nullish(), handlers: z.array(z.string()).nullish() }).nullish(),
      script_runtime: z
        .looseObject({
          compatibility_date: z.string().nullish(),
          compatibility_flags: z.array(z.string()).nullish(),
        })
        .nullish(),
    })
    .nullish(),
  startup_time_ms: z.number().nullish(),
});
export type Version = z.infer<typeof VersionSchema>;

export const VersionListSchema = z.looseObject({ items: z.array(VersionSchema) });

export const DeploymentVersionSchema = z.looseObject({ version_id: z.string(), percentage: z.number() });

export const DeploymentSchema = z.looseObject({
  id: z.string(),
  source: z.string().nullish(),
  strategy: z.string().nullish(),
  author_email: z.string().nullish(),
  created_on: z.string().nullish(),
  annotations: Annotations.nullish(),
  versions: z.array(DeploymentVersionSchema),
});
export type Deployment = z.infer<typeof DeploymentSchema>;

export const DeploymentListSchema = z.looseObject({ deployments: z.array(DeploymentSchema) });

/** PUT /scripts/:name: `deployment_id` is the id of the version it created. */
export const ScriptUploadSchema = z.looseObject({
  id: z.string().nullish(),
  deployment_id: z.string().nullish(),
  etag: z.string().nullish(),
  startup_time_ms: z.number().nullish(),
});
export type ScriptUpload = z.infer<typeof ScriptUploadSchema>;

export const ScriptSchema = z.looseObject({
  id: z.string(),
  /** The Durable Object migration tag (wrangler 4.86 reads it from this list). */
  migration_tag: z.string().nullish(),
  created_on: z.string().nullish(),
  modified_on: z.string().nullish(),
});
export type Script = z.infer<typeof ScriptSchema>;

export const SecretSchema = z.looseObject({ name: z.string(), type: z.string() });
export type Secret = z.infer<typeof SecretSchema>;

export const KvNamespaceSchema = z.looseObject({
  id: z.string(),
  title: z.string(),
  supports_url_encoding: z.boolean().nullish(),
});
export type KvNamespace = z.infer<typeof KvNamespaceSchema>;

export const KvKeySchema = z.looseObject({
  name: z.string(),
  expiration: z.number().nullish(),
  metadata: z.unknown().optional(),
});
export type KvKey = z.infer<typeof KvKeySchema>;

export const TunnelSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  account_tag: z.string().nullish(),
  created_at: z.string().nullish(),
  deleted_at: z.string().nullish(),
  status: z.string().nullish(),
  config_src: z.string().nullish(),
  remote_config: z.boolean().nullish(),
});
export type Tunnel = z.infer<typeof TunnelSchema>;

export const TunnelConfigSchema = z.looseObject({
  tunnel_id: z.string().nullish(),
  account_id: z.string().nullish(),
  version: z.number().nullish(),
  source: z.string().nullish(),
  config: z
    .looseObject({
      ingress: z.array(z.looseObject({ service: z.string(), hostname: z.string().nullish() })).nullish(),
    })
    .nullish(),
});
export type TunnelConfig = z.infer<typeof TunnelConfigSchema>;

export const AccountSchema = z.looseObject({ id: z.string(), name: z.string() });
export type Account = z.infer<typeof AccountSchema>;

export const MembershipSchema = z.looseObject({
  id: z.string(),
  account: z.looseObject({ id: z.string(), name: z.string().nullish() }),
  status: z.string().nullish(),
  roles: z.array(z.string()).nullish(),
});
export type Membership = z.infer<typeof MembershipSchema>;

export const SubdomainSchema = z.looseObject({ subdomain: z.string() });
export type Subdomain = z.infer<typeof SubdomainSchema>;

export const TokenVerifySchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  expires_on: z.string().nullish(),
  not_before: z.string().nullish(),
});
export type TokenVerify = z.infer<typeof TokenVerifySchema>;

/** The success envelope every JSON endpoint answers with. */
export const EnvelopeSchema = z.looseObject({
  success: z.boolean(),
  errors: z.array(z.unknown()).nullish(),
  result: z.unknown(),
});
