// `caches` inside a loaded Worker (env-shim): Cache objects whose match/put/delete go to the
// router's CacheBinding (../cache-binding.ts), which workerd's loaded Workers lack.
type CacheStub = {
  match(name: string, request: Request, options?: unknown): Promise<Response | undefined>;
  put(name: string, request: Request, response: Response): Promise<void>;
  delete(name: string, request: Request, options?: unknown): Promise<boolean>;
};

const requestOf = (r: RequestInfo | URL): Request => (r instanceof Request ? r : new Request(String(r)));

class CacheShim {
  readonly #stub: CacheStub;
  readonly #name: string;
  constructor(stub: CacheStub, name: string) {
    this.#stub = stub;
    this.#name = name;
  }
  async match(request: RequestInfo | URL, options?: { ignoreMethod?: boolean }): Promise<Response | undefined> {
    return (await this.#stub.match(this.#name, requestOf(request), options)) ?? undefined;
  }
  async put(request: RequestInfo | URL, response: Response): Promise<void> {
    const req = requestOf(request);
    // The runtime's own words, before anything crosses to the router.
    if (req.method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
    if (response.status === 206) throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
    await this.#stub.put(this.#name, req, response);
  }
  async delete(request: RequestInfo | URL, options?: { ignoreMethod?: boolean }): Promise<boolean> {
    return this.#stub.delete(this.#name, requestOf(request), options);
  }
}

/** Replaces the global `caches` with one backed by `stub`. */
export function installCaches(stub: CacheStub): void {
  const storage = {
    default: new CacheShim(stub, "default"),
    async open(name: string) {
      return new CacheShim(stub, `named:${String(name)}`);
    },
  };
  Object.defineProperty(globalThis, "caches", { value: storage, configurable: true, writable: true });
}
