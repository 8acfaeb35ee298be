// The vault: versioned, envelope-encrypted secrets in the store's SQLite file. A plain object of
// methods (routes call one method each); inputs are validated here, every write is a
// check-and-set inside one transaction, and values leave only through readValue (read.ts).
import { createHmac } from "node:crypto";
import * as z from "zod";
import type { Db } from "../store/db.ts";
import { atomic } from "./atomic.ts";
import { checkCas, mustExist, refuseDeleted, type VaultContext } from "./context.ts";
import type { VaultEvent } from "./events.ts";
import { openKeyring } from "./keyring.ts";
import { destroy, pruneHistory, scrubbedWrite, softDelete, undelete, writeVersion } from "./lifecycle.ts";
import type { MasterKey } from "./master-key.ts";
import {
  checkBindingName,
  checkBindingSize,
  DEFAULT_MODE,
  DEFAULT_TENANT,
  JurisdictionsSchema,
  MODES,
  parseInput,
  SecretNameSchema,
  TenantSchema,
  valueBytes,
  VersionSchema,
} from "./names.ts";
import { readSecret, readValue } from "./read.ts";
import { rotateMasterKey } from "./rotate.ts";
import { createRows, type SecretRow, type VersionRow } from "./rows.ts";
import { type Logger, silentLogger } from "../telemetry/index.ts";

export type VaultOptions = {
  db: Db;
  masterKey: MasterKey;
  /** Versions kept per secret; older ones are destroyed. */
  keepVersions?: number;
  now?: () => Date;
  log?: Logger;
  /**
   * Called for every read and change, synchronously and, for changes, inside the write's
   * transaction (a SAVEPOINT-safe appender on the same connection joins it). Throwing refuses the
   * operation: nothing is written, no value is returned.
   */
  onEvent?: (e: VaultEvent) => void;
  /** Sees every value the vault hands out, after its read was recorded (the daemon's log redactor). */
  onValue?: (value: Uint8Array) => void;
};

export type SecretInfo = {
  tenant: string;
  name: string;
  version: number;
  mode: SecretRow["mode"];
  jurisdictions: string[];
  deleted: boolean;
  destroyed: boolean;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
};
export type VersionInfo = {
  version: number;
  current: boolean;
  created_at: string;
  created_by: string | null;
  key_id: string | null;
  destroyed: boolean;
  destroyed_at: string | null;
};

const Common = { tenant: TenantSchema.default(DEFAULT_TENANT), by: z.string().min(1).max(200).optional() };
const Cas = z.number().int().min(0);
const PutSchema = z
  .object({ ...Common, cas: Cas.optional(), mode: z.enum(MODES).optional(), jurisdictions: JurisdictionsSchema.optional() })
  .strict();
const GetSchema = z
  .object({
    ...Common,
    version: VersionSchema.optional(),
    purpose: z.enum(["get", "deliver", "relay", "cloudflare", "redact"]).default("get"),
  })
  .strict();
const ScopeSchema = z.object({ tenant: TenantSchema.default(DEFAULT_TENANT) }).strict();
const PolicySchema = z
  .object({ ...Common, cas: Cas.optional(), mode: z.enum(MODES).optional(), jurisdictions: JurisdictionsSchema.optional() })
  .strict();
const CasRequired = z.object({ ...Common, cas: Cas }).strict();
const CasOptional = z.object({ ...Common, cas: Cas.optional() }).strict();
const DestroySchema = z.object({ ...Common, cas: Cas.optional(), versions: z.array(VersionSchema).min(1).optional() }).strict();

const info = (s: SecretRow): SecretInfo => ({
  tenant: s.tenant,
  name: s.name,
  version: s.current_version,
  mode: s.mode,
  jurisdictions: s.jurisdictions,
  deleted: s.deleted_at !== null,
  destroyed: s.destroyed_at !== null,
  created_at: s.created_at,
  updated_at: s.updated_at,
  deleted_at: s.deleted_at,
});
const versionInfo =
  (current: number) =>
  (r: VersionRow): VersionInfo => ({
    version: r.version,
    current: r.version === current,
    created_at: r.created_at,
    created_by: r.created_by,
    key_id: r.key_id,
    destroyed: r.destroyed_at !== null,
    destroyed_at: r.destroyed_at,
  });

export function createVault(opts: VaultOptions) {
  const keepVersions = parseInput(z.number().int().min(1).max(1000), opts.keepVersions ?? 10, "keepVersions");
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? silentLogger;
  let master = opts.masterKey;
  const ctx: VaultContext = {
    db: opts.db,
    rows: createRows(opts.db),
    keepVersions,
    master: () => master,
    setMaster: (next) => (master = next),
    hashKey: openKeyring(opts.db, master, now().toISOString(), log),
    at: () => now().toISOString(),
    log,
    emit: opts.onEvent ?? (() => {}),
    ...(opts.onValue ? { revealed: opts.onValue } : {}),
    removed: false,
  };
  const name = (n: unknown) => parseInput(SecretNameSchema, n, "secret name");
  const keyedHash = (value: Uint8Array | string): string => createHmac("sha256", ctx.hashKey).update(value).digest("hex");

  return {
    /** The id of the master key sealing the vault now. */
    get keyId(): string {
      return master.id;
    },

    /** Writes a new version. `cas`: the current version you expect (0: must not exist yet). */
    put(secret: string, value: Uint8Array | string, o: z.input<typeof PutSchema> = {}): { version: number } {
      const n = name(secret),
        p = parseInput(PutSchema, o, "put options");
      const { bytes, owned } = valueBytes(value);
      try {
        const version = scrubbedWrite(ctx, () => {
          const s = ctx.rows.secret(p.tenant, n);
          checkCas(p.tenant, n, s, p.cas);
          refuseDeleted(s);
          const mode = p.mode ?? s?.mode ?? DEFAULT_MODE,
            jurisdictions = p.jurisdictions ?? s?.jurisdictions ?? [];
          checkBindingName(n, mode);
          checkBindingSize(n, mode, bytes.length);
          const who = { tenant: p.tenant, name: n, by: p.by ?? null };
          const v = writeVersion(ctx, s, { ...who, mode, jurisdictions }, bytes);
          ctx.emit({ type: "secret.written", ...who, version: v, value_hash: keyedHash(bytes), mode, jurisdictions });
          pruneHistory(ctx, who, v);
          return v;
        });
        return { version };
      } finally {
        if (owned) bytes.fill(0);
      }
    },

    /** The value (current version unless `version`): audited through readValue. */
    get(secret: string, o: z.input<typeof GetSchema> = {}): { version: number; value: Uint8Array } {
      const p = parseInput(GetSchema, o, "get options");
      return readSecret(ctx, p.tenant, name(secret), p.version, p.purpose, p.by ?? null);
    },

    /** Like get, decoded as UTF-8. */
    getText(secret: string, o: z.input<typeof GetSchema> = {}): { version: number; value: string } {
      const p = parseInput(GetSchema, o, "get options");
      const r = readSecret(ctx, p.tenant, name(secret), p.version, p.purpose, p.by ?? null);
      const value = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).toString("utf8");
      r.value.fill(0);
      return { version: r.version, value };
    },

    info(secret: string, o: z.input<typeof ScopeSchema> = {}): SecretInfo {
      return info(mustExist(ctx, parseInput(ScopeSchema, o, "options").tenant, name(secret)));
    },

    /** Every secret of the tenant, deleted ones included; never a value. */
    list(o: z.input<typeof ScopeSchema> = {}): SecretInfo[] {
      return ctx.rows.secrets(parseInput(ScopeSchema, o, "options").tenant).map(info);
    },

    /** The kept versions of a secret, oldest first; metadata only. */
    versions(secret: string, o: z.input<typeof ScopeSchema> = {}): VersionInfo[] {
      const t = parseInput(ScopeSchema, o, "options").tenant,
        n = name(secret);
      const s = mustExist(ctx, t, n);
      return ctx.rows.versions(t, n).map(versionInfo(s.current_version));
    },

    /** Changes delivery mode or jurisdictions without a new value. */
    setPolicy(secret: string, o: z.input<typeof PolicySchema>): SecretInfo {
      const n = name(secret),
        p = parseInput(PolicySchema, o, "policy");
      return atomic(ctx.db, () => {
        const s = mustExist(ctx, p.tenant, n);
        checkCas(p.tenant, n, s, p.cas);
        refuseDeleted(s);
        const mode = p.mode ?? s.mode,
          jurisdictions = p.jurisdictions ?? s.jurisdictions;
        checkBindingName(n, mode);
        ctx.rows.setPolicy(p.tenant, n, mode, jurisdictions, ctx.at());
        ctx.emit({ type: "secret.policy_changed", tenant: p.tenant, name: n, mode, jurisdictions, by: p.by ?? null });
        return info(ctx.rows.secret(p.tenant, n)!);
      });
    },

    /** A new version holding `toVersion`'s value. */
    rollback(secret: string, toVersion: number, o: z.input<typeof CasRequired>): { version: number } {
      const n = name(secret),
        p = parseInput(CasRequired, o, "rollback options"),
        from = parseInput(VersionSchema, toVersion, "version");
      const version = scrubbedWrite(ctx, () => {
        const s = mustExist(ctx, p.tenant, n);
        checkCas(p.tenant, n, s, p.cas);
        refuseDeleted(s);
        const who = { tenant: p.tenant, name: n, by: p.by ?? null };
        const value = readValue(ctx, { tenant: p.tenant, name: n, version: from }, "rollback", who.by);
        try {
          const v = writeVersion(ctx, s, { ...who, mode: s.mode, jurisdictions: s.jurisdictions }, value);
          ctx.emit({ type: "secret.rolled_back", ...who, version: v, from_version: from, value_hash: keyedHash(value) });
          pruneHistory(ctx, who, v);
          return v;
        } finally {
          value.fill(0);
        }
      });
      return { version };
    },

    softDelete(secret: string, o: z.input<typeof CasRequired>) {
      const n = name(secret),
        p = parseInput(CasRequired, o, "delete options");
      return softDelete(ctx, p.tenant, n, p.cas, p.by ?? null);
    },

    undelete(secret: string, o: z.input<typeof CasOptional> = {}) {
      const n = name(secret),
        p = parseInput(CasOptional, o, "undelete options");
      return undelete(ctx, p.tenant, n, p.cas, p.by ?? null);
    },

    /** Irreversibly destroys `versions` (default: every version) of a secret. */
    destroy(secret: string, o: z.input<typeof DestroySchema> = {}) {
      const n = name(secret),
        p = parseInput(DestroySchema, o, "destroy options");
      return destroy(ctx, p.tenant, n, p.versions, p.cas, p.by ?? null);
    },

    /** Re-wraps every data key with `next` in one transaction; the old key is retired. */
    rotateMasterKey(next: MasterKey, o: { by?: string } = {}) {
      return rotateMasterKey(ctx, next, o.by ?? null);
    },

    /** HMAC-SHA256 under the vault's own key: how a value may appear in the audit log. */
    keyedHash,
  };
}
export type Vault = ReturnType<typeof createVault>;
