import { describe, expect, it } from "vitest";
import type { LogLine } from "../contract/index.ts";
import { keyForms, MASK, redactLine, redactText, secretForms } from "./redact.ts";

const line = (over: Partial<LogLine> = {}): LogLine => ({
  id: 7,
  time: "2026-01-01T00:00:00.000Z",
  worker: "api",
  target: "eu",
  versionId: "v1",
  outcome: "ok",
  status: 200,
  verdict: "ok",
  event: {
    kind: "fetch",
    request: {
      method: "GET",
      url: "https://api.example.com/signup?email=ann@example.com&api_key=abc123xyz&page=2",
      headers: { "cf-connecting-ip": "203.0.113.9", "x-user-id": "u-42", "user-agent": "curl/8" },
    },
  },
  logs: [
    { level: "log", message: ["user", { email: "bob@example.org", profile: { password: "hunter22", plan: "pro" } }], time: "t" },
    { level: "warn", message: ["from 2001:db8::1 at 12:34:56, key sk_live_abcdefgh12345678"], time: "t" },
  ],
  exceptions: [{ name: "Error", message: "Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl failed", time: "t" }],
  ...over,
});

describe("redaction", () => {
  it("masks the worker's secret values everywhere, in their encodings, and nothing else at the secrets-only level", () => {
    const secret = "s3cr3t value/with+chars";
    const l = line({
      logs: [{ level: "log", message: [`got ${secret}`, { nested: [secret] }, encodeURIComponent(secret)], time: "t" }],
    });
    const out = redactLine(l, { secrets: secretForms(secret), patterns: false, fields: [] });
    const text = JSON.stringify(out);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(encodeURIComponent(secret));
    expect(out.logs[0]!.message).toEqual([`got ${MASK.secret}`, { nested: [MASK.secret] }, MASK.secret]);
    // Emails and IPs stay for readers who may see the raw line.
    expect(JSON.stringify(out)).toContain("203.0.113.9");
    // The input is untouched.
    expect(JSON.stringify(l)).toContain(secret);
  });

  it("masks per-Worker keys in base64url, base64 and hex", () => {
    const key = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 255);
    const b = Buffer.from(key);
    const rules = { secrets: keyForms(key), patterns: false, fields: [] };
    for (const form of [b.toString("base64url"), b.toString("base64"), b.toString("hex")])
      expect(redactText(`k=${form};`, rules)).toBe(`k=${MASK.secret};`);
  });

  it("at the full level masks tokens, keys, emails, IPv4 and IPv6 by shape, but not times or plain words", () => {
    const out = redactLine(line(), { secrets: [], patterns: true, fields: [] });
    const text = JSON.stringify(out);
    for (const gone of [
      "ann@example.com",
      "bob@example.org",
      "abc123xyz",
      "203.0.113.9",
      "2001:db8::1",
      "sk_live_abcdefgh12345678",
      "eyJhbGciOi",
    ])
      expect(text).not.toContain(gone);
    expect(out.event.request!.url).toBe(`https://api.example.com/signup?email=${MASK.email}&api_key=${MASK.token}&page=2`);
    expect(out.logs[1]!.message[0]).toBe(`from ${MASK.ip} at 12:34:56, key ${MASK.token}`);
    expect(out.exceptions[0]!.message).toBe(`Bearer ${MASK.token} failed`);
    expect(redactText("release 1.2.3 took 12:00:01 and cost 3.5", { secrets: [], patterns: true, fields: [] })).toBe(
      "release 1.2.3 took 12:00:01 and cost 3.5",
    );
    expect(redactText("/x?e=ann%40example.com&ip=2001%3Adb8%3A%3A1&t=12%3A30", { secrets: [], patterns: true, fields: [] })).toBe(
      `/x?e=${MASK.email}&ip=${MASK.ip}&t=12%3A30`,
    );
    expect(redactText("cbo_admin_AbCdEfGhIjKlMnOpQrStUv and password=letmein", { secrets: [], patterns: true, fields: [] })).toBe(
      `${MASK.token} and password=${MASK.token}`,
    );
  });

  it("masks configured field paths: exact, through arrays, with * and **", () => {
    const out = redactLine(line(), {
      secrets: [],
      patterns: false,
      fields: ["event.request.headers.x-user-id", "logs.message.email", "**.password"],
    });
    expect(out.event.request!.headers["x-user-id"]).toBe(MASK.field);
    expect(out.event.request!.headers["user-agent"]).toBe("curl/8");
    expect(out.logs[0]!.message[1]).toEqual({ email: MASK.field, profile: { password: MASK.field, plan: "pro" } });
    const star = redactLine(line(), { secrets: [], patterns: false, fields: ["logs.message.profile.*"] });
    expect(star.logs[0]!.message[1]).toEqual({ email: "bob@example.org", profile: { password: MASK.field, plan: MASK.field } });
    // The labels a reader filters by are not fields to hide.
    const labels = redactLine(line(), { secrets: [], patterns: true, fields: ["worker", "target"] });
    expect([labels.worker, labels.target, labels.id]).toEqual(["api", "eu", 7]);
  });

  it("does not mask values shorter than four characters", () => {
    expect(secretForms("abc")).toEqual([]);
    expect(secretForms("abcd")).toContain("abcd");
  });
});
