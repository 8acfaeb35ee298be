// `cbo vault`'s usage, shared by its online and offline paths (offline/vault-command.ts, offline/vault-rotate-offline.ts).
import { usageOf } from "./usage/index.ts";

export const VAULT_USAGE = usageOf("vault");
