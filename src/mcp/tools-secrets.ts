// `secrets`: what the vault holds, by name and version only. The agent needs it to rotate the right
// secret (secret_rotate takes a name) and to tell the user which workers still run an older one;
// the value route (admin) is not reachable through any tool.
import * as z from "zod";
import { defineTool, done, type AnyTool } from "./tool.ts";

export const secrets = defineTool({
  name: "secrets",
  title: "List vault secrets (names and versions, never values)",
  description:
    "The vault's secrets: name, current version, delivery mode (binding or relay), jurisdictions, and whether deleted. Never a value. Read-only; which worker uses which secret is in the plan tool's answer (secret name@version per target).",
  input: z
    .object({ name: z.string().min(1).max(128).optional().describe("Only secrets whose name contains this (case-insensitive)") })
    .strict(),
  mutating: false,
  async run({ name }, { api }) {
    const all = await api.listSecrets();
    const list = name ? all.filter((s) => s.name.toLowerCase().includes(name.toLowerCase())) : all;
    const lines = list.map(
      (s) =>
        `  ${s.name}: version ${s.version}, ${s.mode}${s.jurisdictions.length ? `, only in ${s.jurisdictions.join(", ")}` : ""}${s.deleted ? ", DELETED" : ""}`,
    );
    return done(lines.length ? [`${lines.length} secret(s):`, ...lines].join("\n") : "No secrets match.", list);
  },
});

export const SECRET_TOOLS: AnyTool[] = [secrets];
