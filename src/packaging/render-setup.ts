// setup-vps.sh from its template (setup-vps.template.sh, a plain shell file so that shellcheck can
// read it as it is). Every value put in passed a strict pattern in facts.ts: no quoting can break.
import { readFileSync } from "node:fs";
import { CboError } from "../kit/errors.ts";
import { usesLocalEdge, type KitFacts } from "./facts.ts";
import { IMAGE_UID } from "./render-dockerfile.ts";
import { DAEMON_UNIT, EDGE_UNIT } from "./render-systemd.ts";

/** pm2 on the VPS, the version the product is tested with. */
export const PM2_VERSION = "7.0.4";

export function readSetupTemplate(): string {
  return readFileSync(new URL("./setup-vps.template.sh", import.meta.url), "utf8");
}

export function renderSetup(f: KitFacts, template: string): string {
  const values: Record<string, string> = {
    PRODUCT: f.product.name,
    VERSION: f.product.version,
    USER: f.user,
    INSTALL_DIR: f.installDir,
    DATA_DIR: f.dataDir,
    ETC_DIR: f.etcDir,
    PM2_VERSION,
    IMAGE_UID: String(IMAGE_UID),
    START_UNITS: usesLocalEdge(f) ? `${EDGE_UNIT} ${DAEMON_UNIT}` : DAEMON_UNIT,
  };
  const out = template.replace(/@@([A-Z0-9_]+)@@/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new CboError("ERR_INTERNAL", `setup-vps.template.sh names an unknown value @@${key}@@.`);
    return v;
  });
  return out;
}
