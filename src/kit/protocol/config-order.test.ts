import { describe, expect, it } from "vitest";
import { orderConfig } from "./config-order.ts";

const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, "0")}:00.000Z`;
const b = (version: number, minute: number, rollback = false, config: Record<string, unknown> = { v: version }) => ({
  version,
  issuedAt: at(minute),
  rollback,
  config,
});

describe("orderConfig", () => {
  it("applies the first bundle and newer versions, even two signed in the same millisecond", () => {
    expect(orderConfig(undefined, b(5, 1))).toBe("apply");
    expect(orderConfig(b(1, 1), b(2, 2))).toBe("apply");
    expect(orderConfig(b(1, 1), b(7, 2))).toBe("apply");
    expect(orderConfig(b(2, 5), b(3, 5))).toBe("apply");
  });

  it("refuses lower versions, the same version with other content, and anything issued earlier", () => {
    expect(orderConfig(b(2, 2), b(1, 3))).toBe("older_version");
    expect(orderConfig(b(2, 2), b(2, 3, false, { other: true }))).toBe("older_version");
    expect(orderConfig(b(2, 5), b(3, 4))).toBe("older_version");
    expect(orderConfig(b(2, 5), b(1, 5, true))).toBe("older_version");
  });

  it("keeps the same bundle unchanged, and takes a later re-signing of the same version and config", () => {
    expect(orderConfig(b(2, 2), b(2, 2))).toBe("unchanged");
    expect(orderConfig(b(2, 2), b(2, 3))).toBe("apply");
  });

  it("lets a newer rollback bundle move back, and stops replays around it", () => {
    const v2 = b(2, 2);
    const rollbackToV1 = b(1, 3, true);
    expect(orderConfig(v2, rollbackToV1)).toBe("apply");
    // v2 again (a replayed KV write): a higher version, but issued before the rollback.
    expect(orderConfig(rollbackToV1, v2)).toBe("older_version");
    // The next real release is issued later and goes forward.
    const v3 = b(3, 4);
    expect(orderConfig(rollbackToV1, v3)).toBe("apply");
    // The old rollback bundle replayed after v3: issued earlier, refused.
    expect(orderConfig(v3, rollbackToV1)).toBe("older_version");
    // A rollback to the version already applied still moves the issue time on (so v2 stays refused).
    expect(orderConfig(b(1, 1), b(1, 3, true, { v: 1 }))).toBe("apply");
  });
});
