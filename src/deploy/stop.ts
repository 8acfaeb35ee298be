// Why a release stops before succeeding. Internal control flow, never shown as an API error.
export class ReleaseStop extends Error {
  /** `record`: the store refused a journal entry, event or status the next move needed. */
  readonly kind: "gate" | "edge" | "record" | "abort" | "halt" | "sibling";
  readonly target: string | undefined;
  constructor(kind: ReleaseStop["kind"], message: string, target?: string) {
    super(message);
    this.name = "ReleaseStop";
    this.kind = kind;
    this.target = target;
  }
}
