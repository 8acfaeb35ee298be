// The edge protocol: what the orchestrator and the edge agent say to each other, as zod schemas
// and pure WebCrypto helpers that both sides run (Node and workerd).
export {
  AGENT_BINDINGS,
  AGENT_HEALTH_PATH,
  AGENT_MOUNT_PATH,
  AGENT_POKE_PATH,
  HEARTBEAT_PATH,
  NAME_PATTERN,
  NameSchema,
  RELAY_PATH,
  SIGNATURE_HEADER,
  SecretVersionsSchema,
  VersionMetadataSchema,
  configKvKey,
  lastKnownGoodKvKey,
} from "./bindings.ts";
export { canonicalJson } from "./canonical-json.ts";
export {
  CONFIG_FORMAT,
  CONFIG_REJECTION_REASONS,
  ConfigBundleSchema,
  ConfigPayloadSchema,
  ConfigRejectionReasonSchema,
  MAX_CONFIG_BUNDLE_CHARS,
  ed25519KeyIdOf,
  signConfigBundle,
  verifyConfigBundle,
} from "./config-bundle.ts";
export type { ConfigBundle, ConfigPayload, ConfigPayloadInput, ConfigRejectionReason, ConfigVerification } from "./config-bundle.ts";
export { orderConfig } from "./config-order.ts";
export type { ConfigOrder } from "./config-order.ts";
export {
  ConfigRejectionSchema,
  EdgeSpanSchema,
  HeartbeatAnswerSchema,
  HeartbeatSchema,
  MAX_HEARTBEAT_BODY_BYTES,
  MAX_HEARTBEAT_REJECTIONS,
  MAX_HEARTBEAT_SPANS,
  createHeartbeatRequest,
  verifyHeartbeatRequest,
} from "./heartbeat.ts";
export type { ConfigRejection, EdgeSpan, Heartbeat, HeartbeatAnswer, HeartbeatCheck, HeartbeatFailureReason } from "./heartbeat.ts";
export { MAX_POKE_BODY_BYTES, PokeSchema, createPokeRequest, verifyPokeRequest } from "./poke.ts";
export type { Poke, PokeCheck, PokeFailureReason, PokeInput } from "./poke.ts";
