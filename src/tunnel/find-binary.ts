// Which cloudflared the daemon supervises, and the environment it gets. Never downloaded: when none
// is installed, installHint() says how to get one from a package manager or an image.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

export type Env = Record<string, string | undefined>;

/**
 * `configured` (a path, or false for "cloudflared runs elsewhere"), else CBO_CLOUDFLARED (a path,
 * or `off`), else `cloudflared` on PATH. Returns the path, null when none is found, or "off".
 */
export function findCloudflared(env: Env, configured?: string | false): string | null | "off" {
  if (configured === false) return "off";
  const given = configured ?? env.CBO_CLOUDFLARED;
  if (given === "off") return "off";
  if (given) return isExecutable(given) ? given : null;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue; // a relative PATH entry would depend on the daemon's cwd
    const candidate = join(dir, "cloudflared");
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// What cloudflared gets of the daemon's environment: the allowlist every child gets (locale,
// certificates, proxies, HOME), never CBO_MASTER_KEY or CLOUDFLARE_API_TOKEN.
export { childEnv } from "../config/child-env.ts";

export function installHint(): string {
  return [
    "cloudflared is not installed, so the daemon cannot run the tunnel's connector. Install it, then restart the daemon:",
    "  Debian/Ubuntu (Cloudflare's apt repository, https://pkg.cloudflare.com/):",
    "    sudo mkdir -p --mode=0755 /usr/share/keyrings",
    "    curl -fsSL https://pkg.cloudflare.com/cloudflare-main.gpg | sudo tee /usr/share/keyrings/cloudflare-main.gpg >/dev/null",
    "    echo 'deb [signed-by=/usr/share/keyrings/cloudflare-main.gpg] https://pkg.cloudflare.com/cloudflared any main' | sudo tee /etc/apt/sources.list.d/cloudflared.list",
    "    sudo apt-get update && sudo apt-get install cloudflared",
    "  or the .deb package from https://github.com/cloudflare/cloudflared/releases (sudo dpkg -i cloudflared-linux-amd64.deb)",
    "  Docker: run the image cloudflare/cloudflared beside the daemon (the deployment kit's compose file does):",
    "    docker run -d --network host -v <data>/tunnel/token:/etc/cloudflared/token:ro cloudflare/cloudflared:latest \\",
    "      tunnel --no-autoupdate run --token-file /etc/cloudflared/token",
    "    (the token file must be readable by the image's user), and set CBO_CLOUDFLARED=off for the daemon.",
    "  Elsewhere: point CBO_CLOUDFLARED at the binary.",
  ].join("\n");
}
