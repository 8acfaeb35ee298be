// The tail Worker of every loaded version whose script has a tail session open (`wrangler tail`).
// workerd calls `tail()` once per invocation of the loaded Worker with its trace: outcome, the
// console.* logs with level and timestamp, exceptions, and the event (request with workerd's own
// header and URL redaction, response status). The router attaches it through the Worker Loader's
// `tails` option, so a Worker with no tail session open pays nothing for it.
import { WorkerEntrypoint } from "cloudflare:workers";

type Env = { CONTROL: Fetcher };
export type TailSinkProps = { script: string; versionId: string };

export class TailSink extends WorkerEntrypoint<Env> {
  override async tail(events: TraceItem[]): Promise<void> {
    const props = (this.ctx as unknown as { props: TailSinkProps }).props;
    const res = await this.env.CONTROL.fetch("http://control/tail", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ script: props.script, versionId: props.versionId, events }),
    });
    await res.arrayBuffer();
  }
}
