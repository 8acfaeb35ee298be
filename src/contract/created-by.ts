// The "By" of config history and secret versions: a token's name, its id apart (createdByToken).
// Daemons before that split (up to commit 8d4fa04) sent the stored actor as it is, `token:<name>:<id>`,
// and no createdByToken: a client of this version reads their answers as a daemon of today would
// have written them, instead of refusing the answer (a CLI upgraded by `git pull && npm install`
// talks to the daemon still running the previous version until that one is restarted).
import * as z from "zod";

export type CreatedBy = { createdBy: string | null; createdByToken: string | null };

/** A token actor's name to show and its id apart (names may hold colons); any other actor as it is. */
export function createdByOf(actor: string | null): CreatedBy {
  const m = actor === null ? null : /^token:(.*):([^:]+)$/s.exec(actor);
  return m ? { createdBy: m[1]!, createdByToken: m[2]! } : { createdBy: actor, createdByToken: null };
}

/** `schema` (an object with createdBy and createdByToken), also taking an older daemon's answer without createdByToken. */
export function withOlderCreatedBy<S extends z.ZodType>(schema: S) {
  return z.preprocess((v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v) || "createdByToken" in v) return v;
    const by = (v as { createdBy?: unknown }).createdBy;
    return typeof by === "string" || by === null ? { ...v, ...createdByOf(by) } : v;
  }, schema);
}
