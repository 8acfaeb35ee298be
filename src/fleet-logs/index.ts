// Fleet logs (issue 16): tail sessions on the Workers of every target, the raw local copy with its
// retention, the redacted copy shipped to a sink, and the redaction every reader gets.
export { createFleetLogs, RAW_LOGS_FILE, type FleetLogs, type FleetLogsDeps, type ReadLevel } from "./fleet-logs.ts";
export { createSecretValues, REDACT_ACTOR, type SecretValueSource } from "./secret-values.ts";
export { matches, type LineFilter } from "./filter.ts";
