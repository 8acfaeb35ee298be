// A body read whole, but no further than `limit` bytes, counted as it streams in: a chunked body
// declares no length, and one read whole before its size is known can take a process (or a Worker
// isolate) past its memory. Past the limit the stream is cancelled and the answer is undefined;
// the caller names the refusal in its own terms. Web streams only, so it runs in Node and in
// Workers alike (the daemon's API, its client, the edge agent).
export async function readUpTo(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | undefined> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}
