// The JWTs of static-asset uploads (CLOUDFLARE-API-FLEET §6): an upload token that authorises
// POST …/workers/assets/upload for one session, and a completion token that goes into the
// version's metadata. wrangler decodes the payload (it reads `exp`), so both are real HS256 JWTs,
// signed with a key derived from the edge's API token so they stay valid across a restart.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export type AssetTokenPayload = { sid: string; acct: string; phase: "upload" | "complete"; exp: number };

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");
const HEADER = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
const TTL_SEC = 3600;

export function createAssetTokens(apiToken: string, now: () => number = () => Date.now()) {
  const key = createHash("sha256").update(`local-edge assets jwt\0${apiToken}`).digest();
  const sign = (body: string) => createHmac("sha256", key).update(body).digest();
  return {
    issue(p: Omit<AssetTokenPayload, "exp">): string {
      const payload = b64url(JSON.stringify({ ...p, exp: Math.floor(now() / 1000) + TTL_SEC }));
      return `${HEADER}.${payload}.${b64url(sign(`${HEADER}.${payload}`))}`;
    },
    /** The payload if the token is ours, unexpired and of this phase; otherwise undefined. */
    verify(token: string, phase: AssetTokenPayload["phase"]): AssetTokenPayload | undefined {
      const [h, p, s] = token.split(".");
      if (!h || !p || !s) return undefined;
      const expected = sign(`${h}.${p}`);
      const given = Buffer.from(s, "base64url");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      let payload: AssetTokenPayload;
      try {
        payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
      } catch {
        return undefined;
      }
      if (payload.phase !== phase || payload.exp * 1000 < now()) return undefined;
      return payload;
    },
  };
}
export type AssetTokens = ReturnType<typeof createAssetTokens>;
