// Which methods the API serves at a path, so that a request with another method is told 405 and
// the methods to use (Allow) rather than a 404 that suggests the path itself is wrong. The
// dashboard's routes (/ui/…) answer the same way from their own list.
import { shownText } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import { errorResponse } from "./errors.ts";

/** A route as Hono spells it: `:param` is one non-empty segment, `:param{re}` one matching `re`. */
export type RoutePattern = { method: string; path: string };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function patternOf(path: string): RegExp {
  const segments = path.split("/").map((seg) => {
    const param = /^:[A-Za-z_]\w*(?:\{(.+)\})?$/.exec(seg);
    return param ? (param[1] ? `(?:${param[1]})` : "[^/]+") : escape(seg);
  });
  return new RegExp(`^${segments.join("/")}$`);
}

export function createAllowedMethods(routes: readonly RoutePattern[]): (path: string) => string[] {
  const patterns = routes.map((r) => ({ method: r.method.toUpperCase(), re: patternOf(r.path) }));
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.re.test(path)).map((p) => p.method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}

/** 405 ERR_METHOD_NOT_ALLOWED with Allow: `method` is not served at `path`, the `allowed` ones are. */
export function methodNotAllowed(method: string, path: string, allowed: string[], hint?: string): Response {
  const res = errorResponse(
    new CboError("ERR_METHOD_NOT_ALLOWED", `${shownText(method, 20)} is not served at ${shownText(path)}: use ${allowed.join(" or ")}.`, {
      details: { allowed },
      ...(hint ? { hint } : {}),
    }),
  );
  res.headers.set("allow", allowed.join(", "));
  return res;
}
