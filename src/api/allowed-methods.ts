// Which methods the API serves at a path, so that a request with another method is told 405 and
// the methods to use (Allow) rather than a 404 that suggests the path itself is wrong.
import type { RouteDef } from "./route.ts";

export function createAllowedMethods(routes: RouteDef[]): (path: string) => string[] {
  // Hono syntax: a `:param` segment is one non-empty segment.
  const patterns = routes.map((r) => ({
    method: r.method.toUpperCase(),
    re: new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z_]\w*/g, "[^/]+")}$`),
  }));
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.re.test(path)).map((p) => p.method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}
