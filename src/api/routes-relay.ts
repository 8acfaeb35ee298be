// The relay: a Worker fetches a `relay` secret at run time, so its value never rests at Cloudflare.
// No API token: the request is signed with the Worker's own key (src/kit/relay.ts), and the answer
// is sealed to that key. Checks, in order, each refusal audited as relay.denied and changing nothing:
//   1. signature: shape, 300 s window, a currently accepted key of this worker on this target, once
//   2. policy: the spec has this worker on this target and it lists the secret; the secret is a
//      relay secret whose jurisdiction tags allow the target
//   3. version: the current one, or one a release of this worker pinned on this target
// The read itself is audited by the vault (secret.read, purpose relay) in the same step: if that
// entry cannot be written, no value leaves. Refusals go through the auth gate under the client's
// address (grouped and counted past the first few); a signature failure counts against the
// address like a wrong token (429 while it is locked), a policy refusal of a correctly signed
// request counts nothing and is answered as it is.
import { CboError } from "../kit/errors.ts";
import {
  RELAY_PATH,
  RELAY_TTL_DEFAULT_SEC,
  RelayRequestSchema,
  RelayResponseSchema,
  SIGNATURE_HEADER,
  sealRelayResponse,
} from "../kit/relay.ts";
import { createNonceCache, signatureFailureError, verifySignature } from "../kit/signing/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

const allowedIn = (tags: string[], jurisdiction: string | undefined) =>
  tags.length === 0 || (jurisdiction !== undefined && tags.includes(jurisdiction));

export function relayRoutes(ctx: RouteContext): RouteDef[] {
  const { store } = ctx.deps;
  const { vault, workerKeys } = ctx.deps.security;
  const ttlSec = ctx.deps.relayTtlSec ?? RELAY_TTL_DEFAULT_SEC;
  // Correctly signed messages only enter it; 100k covers ~330 relay fetches/s inside the window.
  const nonces = createNonceCache({ maxEntries: 100_000 });

  return [
    route({
      id: "relaySecret",
      method: "post",
      path: RELAY_PATH,
      summary: "A Worker fetches a relay secret, sealed to its own key (signed with its per-Worker key, no token)",
      role: null,
      signatureHeader: SIGNATURE_HEADER,
      body: RelayRequestSchema,
      response: RelayResponseSchema,
      errors: [401, 403, 404, 413, 429, 503],
      async handle({ body, signed, tenant, client }) {
        const who = { tenant, worker: body.worker, target: body.target };
        const actor = `worker:${body.worker}@${body.target}`;
        let signatureOk = false;
        const deny = (e: CboError, reason: string): never => {
          ctx.deps.metrics?.relayRefusals.inc({ reason });
          return ctx.gate.refuseSigned({
            client: client(),
            error: e,
            failure: !signatureOk,
            entry: { actor, action: "relay.denied", target: `secret:${body.secret}`, tenant, outcome: "denied", details: { reason } },
          });
        };

        const keys = workerKeys.verifying(who, actor);
        if (keys.length === 0) deny(signatureFailureError("no_matching_signature"), "no_key");
        const check = await verifySignature(
          signed!.signature,
          signed!.raw,
          keys.map((k) => ({ id: String(k.version), key: k.key })),
          {
            nonceCache: nonces,
            replayScope: `${tenant}/${body.worker}/${body.target}`,
          },
        );
        if (!check.ok) return deny(signatureFailureError(check.reason), check.reason);
        signatureOk = true;

        const spec = ctx.deps.spec();
        const worker = spec.workers.find((w) => w.name === body.worker);
        const forbidden = (message: string, reason: string) =>
          deny(
            new CboError("ERR_FORBIDDEN", message, { details: { worker: body.worker, target: body.target, secret: body.secret } }),
            reason,
          );
        if (!worker?.targets.includes(body.target))
          forbidden(`Worker ${body.worker} does not run on ${body.target} in the spec.`, "not_in_spec");
        if (!worker!.secrets.includes(body.secret))
          forbidden(`Worker ${body.worker} does not list secret ${body.secret} in the spec.`, "not_listed");
        const info = vault.list({ tenant }).find((s) => s.name === body.secret);
        if (!info || info.deleted || info.destroyed) return deny(new CboError("ERR_NOT_FOUND", `No secret ${body.secret}.`), "no_secret");
        if (info.mode !== "relay") forbidden(`Secret ${body.secret} is delivered as a binding, not through the relay.`, "not_relay");
        const jurisdiction = spec.targets.find((t) => t.name === body.target)?.jurisdiction;
        if (!allowedIn(info.jurisdictions, jurisdiction))
          forbidden(`Secret ${body.secret} may not reach ${body.target} (tagged ${info.jurisdictions.join(", ")}).`, "jurisdiction");
        const version = body.version ?? info.version;
        if (version !== info.version && !pinnedBy(store, tenant, body.worker, body.target, body.secret, version)) {
          forbidden(`Version ${version} of ${body.secret} was not released to ${body.worker} on ${body.target}.`, "version_not_pinned");
        }

        const read = vault.get(body.secret, { tenant, version, purpose: "relay", by: actor });
        // Worker and target are the spec's here (checked above): bounded labels.
        ctx.deps.metrics?.relayRequests.inc({ worker: body.worker, target: body.target });
        try {
          const key = keys[check.keyIndex]!.key;
          return await sealRelayResponse(
            read.value,
            { secret: body.secret, version: read.version, expiresAt: Date.now() + ttlSec * 1000 },
            { worker: body.worker, target: body.target },
            key,
          );
        } finally {
          read.value.fill(0);
        }
      },
    }),
  ];
}

/** Did a version we uploaded of this worker to this target ship with this secret version? */
function pinnedBy(
  store: RouteContext["deps"]["store"],
  tenant: string,
  worker: string,
  target: string,
  secret: string,
  version: number,
): boolean {
  return store.catalog.versions(tenant, worker, target, 100).some((v) => v.secrets?.secrets[secret] === version);
}
