// The one lifecycle action the local edge carries out: at its start, incomplete multipart uploads
// are aborted once older than their bucket's abort rule allows (R2's default: 7 days), per key
// prefix, and kept when the bucket's rules have no enabled abort rule for them. Real SQLite file,
// real part files on disk; the sweep's clock is passed in rather than waited for.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseBucketRules } from "../src/local-edge/api/r2-bucket-rules.ts";
import { openEdgeDb } from "../src/local-edge/state/db.ts";
import { createR2Store, type R2Bucket } from "../src/local-edge/state/r2.ts";
import { makeTempDir } from "./support/edge.ts";

const DAY = 24 * 3600 * 1000;
const META = { httpMetadata: {}, customMetadata: {} };

describe("R2 lifecycle abort rules at the edge's start", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("aborts by the bucket's rules: the default 7 days, a shorter rule for a prefix, none for keys no enabled rule covers", async () => {
    const dir = await makeTempDir("r2-sweep");
    dirs.push(dir);
    const db = openEdgeDb(dir);
    const r2 = createR2Store(db, join(dir, "r2"));
    const bucket = (name: string): R2Bucket => {
      const b = {
        id: `id-${name}`,
        account_id: "acct",
        jurisdiction: "default",
        name,
        created_at: "",
        location: null,
        storage_class: "Standard",
      };
      r2.insertBucket(b);
      return b;
    };
    const plain = bucket("plain");
    const ruled = bucket("ruled");
    const bare = bucket("bare");
    // Stored as PUT /lifecycle stores them: through the same check.
    r2.setConfig(
      ruled.id,
      "lifecycle",
      parseBucketRules("lifecycle", {
        rules: [
          {
            id: "tmp",
            enabled: true,
            conditions: { prefix: "tmp/" },
            abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 86400 } },
          },
          { id: "off", enabled: false, conditions: {}, abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 3600 } } },
          { id: "expire", enabled: true, conditions: {}, deleteObjectsTransition: { condition: { type: "Age", maxAge: 3600 } } },
        ],
      }),
    );
    r2.setConfig(bare.id, "lifecycle", []);
    const open = async (b: R2Bucket, key: string) => {
      const u = r2.createUpload(b, key, META);
      await r2.putPart(u, 1, new TextEncoder().encode(`part of ${key}`));
      return u;
    };
    const uploads = {
      plain: await open(plain, "big.bin"),
      tmp: await open(ruled, "tmp/scratch.bin"),
      kept: await open(ruled, "keep/archive.bin"),
      bare: await open(bare, "big.bin"),
    };
    const alive = () =>
      Object.entries(uploads)
        .filter(([, u]) => r2.getUpload(u.bucket_id, u.key, u.upload_id))
        .map(([k]) => k);
    const now = Date.now();

    expect(r2.sweep(now + 2 * DAY).uploads).toBe(1);
    expect(alive()).toEqual(["plain", "kept", "bare"]);
    expect(readdirSync(join(dir, "r2", ruled.id))).toHaveLength(1); // the aborted upload's part file went with it
    expect(r2.sweep(now + 6 * DAY).uploads).toBe(0);
    expect(r2.sweep(now + 8 * DAY).uploads).toBe(1);
    expect(alive()).toEqual(["kept", "bare"]);
    expect(existsSync(join(dir, "r2", plain.id))).toBe(true);
    expect(r2.sweep(now + 365 * DAY).uploads).toBe(0);
    expect(alive()).toEqual(["kept", "bare"]);
    db.close();
  });
});
