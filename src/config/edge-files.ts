// The two files through which a local edge's directory is found and reached: <dir>/token (its API
// token, written once on its first start) and <dir>/edge.json (its URLs, rewritten on each start).
// Read by the edge itself (the token), and by `cbo daemon --edge DIR` and `cbo edge fault|trigger`.
// A damaged one is named as such: it is not "no edge here", and an empty token must never be
// taken, since the edge compares a presented token with it and an empty header would match.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { writePrivateFile } from "./private-fs.ts";

/** The scoped tokens' minimum too (local-edge/api/app.ts): shorter is not a token the edge made. */
export const EDGE_TOKEN_MIN_CHARS = 16;
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

const EdgeFileSchema = z.looseObject({
  apiUrl: z.string().min(1),
  /** Older edges' files, and stand-ins, may lack it: only `cbo edge fault|trigger` need it. */
  adminUrl: z.string().min(1).optional(),
  regions: z.array(z.looseObject({ name: z.string(), accountId: z.string(), port: z.number().int(), publicUrl: z.string() })),
});
export type EdgeFile = z.infer<typeof EdgeFileSchema>;

const damaged = (file: string, why: string, hint: string) =>
  new CboError("ERR_VALIDATION", `The local edge's file ${file} is damaged (${why}).`, { details: { file }, hint });

/**
 * The token in `<dir>/token`, refused with ERR_VALIDATION naming the file when it is empty, not one
 * printable word, or shorter than `minChars` (the edge itself asks for EDGE_TOKEN_MIN_CHARS: it
 * made the token; a client of it takes any non-empty one).
 */
export function readEdgeToken(dir: string, minChars = 1): string {
  const file = join(dir, "token");
  const token = readFileSync(file, "utf8").trim();
  const why =
    token === ""
      ? "empty"
      : token.length < minChars
        ? `${token.length} characters; the edge's token has at least ${minChars}`
        : !TOKEN_SHAPE.test(token)
          ? "not one printable word"
          : undefined;
  if (why === undefined) return token;
  throw damaged(
    file,
    why,
    `stop the edge, remove ${file} and start the edge again (it writes a new token), then restart the daemon that uses it (it reads the token on start)`,
  );
}

/** Writes a new token to `<dir>/token`, whole or not at all. */
export function writeEdgeToken(dir: string, token: string): void {
  writePrivateFile(join(dir, "token"), token + "\n");
}

/** The running edge's edge.json and token in `dir`: ERR_NOT_FOUND when it holds no edge, ERR_VALIDATION naming a damaged file. */
export function readEdgeDir(dir: string, notFoundHint: string): EdgeFile & { token: string } {
  const file = join(dir, "edge.json");
  if (!existsSync(file)) throw new CboError("ERR_NOT_FOUND", `No local edge found in ${dir}.`, { hint: notFoundHint });
  const restart = `restart the edge on ${dir} (stop it if it still runs, then \`cbo edge --edge ${dir}\`, or \`cbo up\`): it rewrites the file as it starts`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw damaged(file, e instanceof SyntaxError ? "not JSON" : String((e as NodeJS.ErrnoException).code ?? e), restart);
  }
  const info = EdgeFileSchema.safeParse(parsed);
  if (!info.success) throw damaged(file, `${info.error.issues[0]?.path.join(".") || "its content"}: not what the edge writes`, restart);
  if (!existsSync(join(dir, "token")))
    throw damaged(join(dir, "token"), "missing", "stop the edge and start it again (it writes a new token), then restart the daemon");
  return { ...info.data, token: readEdgeToken(dir) };
}
