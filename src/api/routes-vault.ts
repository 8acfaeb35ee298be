// The vault's master key, rotated online (issue 4: "master-key rotation by re-wrapping, with no
// downtime"). Only a key the daemon read from a key file can be rotated here: the daemon writes
// the new key beside it and swaps it in (src/vault/key-file-rotation.ts). A key from CBO_MASTER_KEY
// or a passphrase lives where the daemon cannot rewrite it, so that rotation is done offline with
// `cbo vault rotate-master-key --data DIR --new-key-file F` and a restart on the new key.
//
// The handler runs start to end without awaiting: no other request runs in between, the ones
// before it used the old key, the ones after it use the new one, and none is refused.
import { MasterKeyRotationSchema, RotateMasterKeyBodySchema } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import { rotateKeyFile } from "../vault/key-file-rotation.ts";
import { actorOf } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";
import { silentLogger } from "../telemetry/index.ts";

const OFFLINE_HINT =
  "stop the daemon, run `cbo vault rotate-master-key --data <data dir> --new-key-file <new key file>` (it re-wraps the vault offline, on the record), then start the daemon with CBO_MASTER_KEY_FILE=<new key file> (or put the new key where the old one was configured)";

const SOURCES: Record<string, string> = {
  env: "CBO_MASTER_KEY",
  passphrase: "a passphrase",
  bytes: "the daemon's caller",
  file: "a key file",
};

export function vaultRoutes(ctx: RouteContext): RouteDef[] {
  const { vault, trail } = ctx.deps.security;
  return [
    route({
      id: "rotateMasterKey",
      method: "post",
      path: "/v1/vault/rotate-master-key",
      summary:
        "Rotates the vault's master key with no downtime: a new key file is written beside the old one, every data key is re-wrapped in one transaction, and the new file replaces the old, which is kept as <file>.retired-<key id> to restore older backups",
      role: "admin",
      body: RotateMasterKeyBodySchema,
      response: MasterKeyRotationSchema,
      errors: [409, 503],
      audit: { action: "vault.rotate_master_key", target: () => "vault" },
      handle({ principal, tenant }) {
        const admin = ctx.deps.admin;
        const current = admin?.masterKey();
        if (!admin || !current || current.source !== "file" || admin.masterKeyFile === undefined) {
          const from = current ? (SOURCES[current.source] ?? current.source) : "outside the daemon";
          throw new CboError(
            "ERR_CONFLICT",
            `The daemon's master key comes from ${from}, which it cannot rewrite; only a key read from a key file is rotated online.`,
            { hint: OFFLINE_HINT },
          );
        }
        const actor = actorOf(principal!);
        // The re-wrap and its audit entry (vault.key_rotate) commit together inside the vault.
        const r = rotateKeyFile({
          file: admin.masterKeyFile,
          db: ctx.deps.store.db,
          currentKeyId: vault.keyId,
          log: ctx.deps.log ?? silentLogger,
          rotate: (next) => {
            const done = vault.rotateMasterKey(next, { by: actor });
            admin.masterKeyRotated(next);
            return done;
          },
        });
        const out = {
          fromKeyId: r.from_key,
          toKeyId: r.to_key,
          rewrapped: r.rewrapped,
          keyFile: r.keyFile,
          retiredKeyFile: r.retiredKeyFile,
        };
        // Where the keys now are: what an operator needs to restore an older backup.
        trail.note({ actor, action: "vault.rotate_master_key", target: "vault", tenant, outcome: "ok", details: out });
        return out;
      },
    }),
  ];
}
