// The server binds loopback unless told otherwise, and serves REST and the stream on one port.
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createStore } from "../store/index.ts";
import { fakeEngineForApiTests, openTestSecurity, testSpec } from "../../test/support/api-fixtures.ts";
import { createApi } from "./app.ts";
import { isLoopback, startApiServer } from "./server.ts";
import { silentLogger } from "../telemetry/index.ts";

async function makeApi() {
  const store = createStore(":memory:");
  const spec = testSpec();
  const security = await openTestSecurity(store);
  return {
    store,
    api: createApi({ store, engine: fakeEngineForApiTests(store, () => spec), security, spec: () => spec, log: silentLogger }),
  };
}

describe("startApiServer", () => {
  it("knows loopback addresses", () => {
    expect(["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "::", "192.168.1.10", "example.com", "127.0.0.1.nip.io"].some(isLoopback)).toBe(false);
  });

  it("refuses a public address unless allowPublic is set", async () => {
    const { store, api } = await makeApi();
    await expect(startApiServer({ api, host: "0.0.0.0" })).rejects.toMatchObject({ code: "ERR_VALIDATION" });
    const open = await startApiServer({ api, host: "0.0.0.0", allowPublic: true });
    expect(open.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    await open.close();
    store.close();
  });

  it("serves on 127.0.0.1 by default, REST and the event stream on the same port, and closes both", async () => {
    const { store, api } = await makeApi();
    const server = await startApiServer({ api });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(await (await fetch(`${server.url}/v1/health`)).json()).toEqual({ ok: true, storage: { full: false } });
    const token = store.tokens.create({ name: "v", role: "viewer" }).token;
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/events/stream`, ["cbo.v1", `cbo.token.${token}`]);
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    await server.close();
    expect(await closed).toBe(1001);
    await expect(fetch(`${server.url}/v1/health`)).rejects.toThrow();
    store.close();
  });

  it("reports a port in use as ERR_IO", async () => {
    const { store, api } = await makeApi();
    const first = await startApiServer({ api });
    await expect(startApiServer({ api, port: first.port })).rejects.toMatchObject({ code: "ERR_IO" });
    await first.close();
    store.close();
  });
});
