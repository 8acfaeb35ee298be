import { describe, expect, it } from "vitest";
import type { RollbackPreview } from "./releases.ts";
import { rollbackPreviewLines } from "./rollback-preview-text.ts";

const preview = {
  worker: "shop",
  to: null,
  resolved: "R1",
  targets: [],
  skipped: [],
  warnings: [],
  needs: { confirmSecretDowngrade: true, force: true },
} as unknown as RollbackPreview;

describe("rollbackPreviewLines", () => {
  it("says what a rollback needs, and what the caller already confirmed as given", () => {
    expect(rollbackPreviewLines(preview).slice(-2)).toEqual([
      "needs --force (API: force: true): a newer migration is marked -- cbo:breaks-rollback",
      "needs --confirm-secret-downgrade (API: confirm_secret_downgrade: true): a secret goes back to an older version",
    ]);
    expect(rollbackPreviewLines(preview, { force: true, confirmSecretDowngrade: true }).slice(-2)).toEqual([
      "forced (--force): a newer migration is marked -- cbo:breaks-rollback",
      "confirmed (--confirm-secret-downgrade): a secret goes back to an older version",
    ]);
  });
});
