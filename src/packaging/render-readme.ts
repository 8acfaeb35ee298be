// The customer's README: what this configuration runs, then the steps: copy the kit, run the
// setup, start with one of PM2, systemd or Compose, verify with `cbo status`, keep the master key.
import { cloudflareTargets, edgeDataDir, envFile, keyFile, NODE_FLAGS, tunnelTokenFile, usesLocalEdge, type KitFacts } from "./facts.ts";
import { DAEMON_UNIT, EDGE_UNIT } from "./render-systemd.ts";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function configuration(f: KitFacts): string {
  const targets = f.targets.map(
    (t) =>
      `| ${t.name} | ${t.local ? `local edge, region ${t.region}` : `Cloudflare account ${t.accountId}`} | ${cell(t.jurisdiction ?? "-")} |`,
  );
  const workers = f.workers.map(
    (w) => `| ${w.name} | \`${cell(w.source)}\` | ${w.targets.join(", ")} | ${w.secrets.length ? w.secrets.join(", ") : "-"} |`,
  );
  return `## What this kit runs

Tenant \`${f.tenant}\`. The daemon listens on \`127.0.0.1:${f.port}\` only; its data directory is
\`${f.dataDir}\`, its master key \`${keyFile(f)}\`, its environment file \`${envFile(f)}\`.
${f.tunnel ? `Cloudflare Tunnel: \`${f.tunnel.hostname}\` (outbound only; the daemon publishes no port).` : "Cloudflare Tunnel: none configured yet (see step 5)."}

| target | where | jurisdiction |
|---|---|---|
${targets.join("\n")}

${f.workers.length ? `| worker | source (relative to config/) | targets | secrets (names) |\n|---|---|---|---|\n${workers.join("\n")}` : "No workers are declared yet."}
${
  usesLocalEdge(f)
    ? `\nTargets ${f.targets
        .filter((t) => t.local)
        .map((t) => t.name)
        .join(
          ", ",
        )} use the **local edge** (Cloudflare's API on workerd, for trying the\nproduct on one machine); the kit runs it beside the daemon (data in \`${edgeDataDir(f)}\`, API port ${f.edgePort}).\nFor production, point those targets at Cloudflare in \`config/orchestrator.yaml\`.\n`
    : ""
}`;
}

function sources(f: KitFacts, leftOut: string[]): string {
  const head = "`config/orchestrator.yaml` is a copy of the spec this kit was made from.";
  if (f.workers.length === 0) return `${head} It names no Worker yet: put a Worker's project beside it and declare it there.`;
  const roots = [...new Set(f.workers.map((w) => w.root))];
  return `${head} Beside it, at the same relative paths, are the projects
of the Workers it names (${roots.map((r) => `\`config/${r === "." ? "" : `${r}/`}\``).join(", ")}): entry modules, wrangler files, modules,
D1 migrations, static assets, and each project's \`package.json\` and lockfile. Left out on purpose:
\`node_modules\` (\`setup-vps.sh\` runs \`npm ci\` in every project with a lockfile), \`.git\`, \`.wrangler\`, the
orchestrator's own data, and files that hold secrets by convention (\`.dev.vars\`, \`.env\`, \`.npmrc\`,
keys)${leftOut.length > 0 ? `; this kit left out ${leftOut.map((x) => `\`${x}\``).join(", ")}` : ""}. A secret a Worker needs goes
into the vault (below), never into the kit. \`config/\` sits inside the product's directory, so the
product's own dependencies (e.g. \`hono\`, \`clawdbot-orchestrator/edge\`) resolve from there too.`;
}

/** The first start's work: the secrets the spec names, the first release of each Worker, signed config. */
function firstRun(f: KitFacts): string {
  const cbo = `sudo -u ${f.user} node ${f.installDir}/bin/cbo.js`;
  const data = `--data ${f.dataDir}`;
  const secrets = [...new Set(f.workers.flatMap((w) => w.secrets))];
  const configs = f.workers.filter((w) => w.config).map((w) => w.name);
  const lines = [
    `## First run: secrets, the first release, config

With the daemon running (step 3), on the VPS:`,
  ];
  if (secrets.length > 0) {
    lines.push(`
1. **Set the secrets the spec names** (${secrets.map((x) => `\`${x}\``).join(", ")}), each from a file or stdin,
   never on the command line; \`--mode relay\` keeps the value on this VPS (Workers fetch it through the
   tunnel), \`--mode binding\` ships it inside each released version:

   \`\`\`sh
${secrets.map((x) => `   ${cbo} secrets set ${x} --mode relay --from-file /path/to/${x.toLowerCase()} ${data}`).join("\n")}
   \`\`\``);
  } else lines.push("\n1. **Secrets**: the spec names none.");
  lines.push(`
2. **Release every Worker** (a Worker after the ones its service bindings name: the spec's order).
   Each release creates the Worker's D1 databases, R2 buckets, queues and KV namespaces in every
   target (in the target's jurisdiction), applies pending D1 migrations, uploads the static assets,
   and rolls out canary-first through the gates; \`cbo plan <worker>\` shows all of it first:

   \`\`\`sh
${f.workers.map((w) => `   ${cbo} release ${w.name} ${data}`).join("\n") || "   # no workers yet"}
   \`\`\``);
  lines.push(
    configs.length > 0
      ? `
3. **Publish the signed config** of ${configs.join(", ")} (its edge agent serves it; \`cbo config diff\` first):

   \`\`\`sh
${configs.map((w) => `   ${cbo} config publish ${w} ${data}`).join("\n")}
   \`\`\``
      : "\n3. **Config**: no Worker has signed config to publish.",
  );
  return lines.join("\n");
}

export function renderReadme(f: KitFacts, opts: { generatedAt: string; files: string[]; leftOut?: string[] }): string {
  const local = usesLocalEdge(f);
  const units = local ? `${EDGE_UNIT} ${DAEMON_UNIT}` : DAEMON_UNIT;
  const cf = cloudflareTargets(f);
  return `# ${f.product.name} ${f.product.version}: deployment kit

Generated by \`cbo kit\` on ${opts.generatedAt}. Everything here is names, paths and settings: the kit
holds no secret (no key, token or secret value). Secrets are created on the VPS (step 2) or come
from your encrypted backup (step 6).

${configuration(f)}
## What is in the kit

| file | what |
|---|---|
| \`setup-vps.sh\` | prepares the VPS; idempotent, safe to re-run |
| \`ecosystem.config.cjs\` | PM2 |
| \`systemd/${DAEMON_UNIT}\`${local ? `, \`systemd/${EDGE_UNIT}\`` : ""} | systemd, sandboxed (NoNewPrivileges, ProtectSystem=strict, writes only ${f.dataDir} and ${f.etcDir}) |
| \`Dockerfile\`, \`compose.yaml\` | Docker Compose: the daemon and \`cloudflared\` |
| \`.env.example\` | the environment's names (no values) |
| \`config/\` | \`orchestrator.yaml\` and the projects of the Workers it names |
| \`package.json\`, \`package-lock.json\`, \`bin/\`, \`src/\` | the product itself (${opts.files.filter((p) => p.startsWith("src/")).length} source files) |

The product runs its TypeScript sources directly (Node 24 strips the types), in every mode and in
the Docker image: there is no build output that could differ from what was tested, and the local
edge loads its router Worker by file path, which a bundle would break. The image's builder stage
only runs \`npm ci --omit=dev --legacy-peer-deps\`; the runtime stage copies the modules beside the sources and runs
as the unprivileged \`node\` user. \`--omit=dev\` leaves out the development tools, including a second
Node and the Cloudflare SDK${
    local
      ? ""
      : `, and, since no target is local, the local edge's Miniflare and workerd
(this kit's \`package.json\` lists them as dev dependencies; the lockfile is the product's)`
  }.
\`--legacy-peer-deps\` keeps npm from installing optional peers on its own: the unenv preset the bundler uses names
workerd as one, which would otherwise bring it back. Every launcher runs
Node with \`${NODE_FLAGS.join(" ")}\` (a small young generation for a mostly idle daemon).

## 1. Copy the kit to the VPS

\`\`\`sh
scp ${f.product.name}-kit-${f.product.version}.tar.gz vps:
ssh vps
tar -xzf ${f.product.name}-kit-${f.product.version}.tar.gz && cd ${f.product.name}-kit
\`\`\`

${sources(f, opts.leftOut ?? [])}

## 2. Run the setup

\`\`\`sh
sudo ./setup-vps.sh --mode systemd     # or --mode pm2, or --mode compose
\`\`\`

It creates the \`${f.user}\` system user and the directories (\`${f.dataDir}\` and \`${f.etcDir}\`, 0700),
installs Node.js 24 when it is missing (NodeSource's signed apt repository), copies the product to
\`${f.installDir}\` and runs \`npm ci --omit=dev --legacy-peer-deps\`, creates the master key \`${keyFile(f)}\` (0600) **only if there
is none** (an existing key is never replaced), and creates \`${envFile(f)}\` (0600) from \`.env.example\`.
Run it again after copying a newer kit: it changes only what differs.

Then fill in \`${envFile(f)}\`${cf.length ? ` (\`CLOUDFLARE_API_TOKEN\` for ${cf.map((t) => t.name).join(", ")})` : ""}.

## 3. Start it (pick one)

**systemd**

\`\`\`sh
sudo systemctl enable --now ${units}
journalctl -u ${DAEMON_UNIT} -f
\`\`\`

**PM2** (as the \`${f.user}\` user; \`pm2 startup\` prints the command that starts PM2 on boot)

\`\`\`sh
sudo -u ${f.user} -H pm2 start ${f.installDir}/ecosystem.config.cjs${local ? "" : " --only cbo-daemon"}
sudo -u ${f.user} -H pm2 save
sudo pm2 startup systemd -u ${f.user} --hp ${f.dataDir}
\`\`\`

PM2 never sees the secrets: Node reads \`${envFile(f)}\` itself when the daemon starts.

**Docker Compose** (after \`./setup-vps.sh --mode compose\`)

\`\`\`sh
cd ${f.installDir} && docker compose up -d --build
\`\`\`

The daemon publishes no port: \`cloudflared\` shares its network namespace and reaches it on
127.0.0.1.${f.tunnel ? "" : " Without a tunnel token, `cloudflared` starts only with `--profile tunnel`."}
\`${f.etcDir}\` is mounted writable, so \`cbo vault rotate-master-key\` works online in Compose too.

## 4. Verify

\`\`\`sh
sudo -u ${f.user} node ${f.installDir}/bin/cbo.js status --data ${f.dataDir}
# Compose: docker compose exec orchestrator node bin/cbo.js status --data ${f.dataDir}
\`\`\`

It answers with every worker and target, its live versions and health. On the first start the
daemon writes an admin token to \`${f.dataDir}/admin-token\` (0600); create tokens for people and
agents with \`cbo tokens create\` and keep that one for the machine.

${firstRun(f)}

## 5. Cloudflare Tunnel

${f.tunnel ? `This configuration uses the tunnel \`${f.tunnel.hostname}\`; its ingress points at the daemon's loopback URL.` : "No tunnel is configured yet: `cbo tunnel create [--hostname H]` creates one and its ingress (on the VPS)."}
\`cbo tunnel create\` writes the connector token to \`${f.dataDir}/tunnel/token\` (0600); the kit never carries it.
With systemd or PM2 the daemon runs \`cloudflared\` itself when it is installed (Debian: Cloudflare's apt
repository, \`pkg.cloudflare.com\`) and restarts it with backoff; \`cbo tunnel status\` shows it. With Compose
the \`cloudflared\` service runs it from \`${tunnelTokenFile(f)}\`: copy the token there and re-run
\`setup-vps.sh --mode compose\` (it makes the file 0400 for cloudflared's uid 65532).

## 6. Secrets, and moving from another machine

Set secrets on the VPS (\`cbo secrets set NAME --from-file F\`, never on the command line), or bring
an installation over: \`cbo backup --out state.cbo\` where it runs now; copy its master key to
\`${keyFile(f)}\` (0600) **before** step 2, so that the setup keeps it instead of creating a new one;
copy the archive, then, before the first start:
\`sudo -u ${f.user} node ${f.installDir}/bin/cbo.js restore state.cbo --data ${f.dataDir} --master-key-file ${keyFile(f)}\`.

## 7. Back up the master key, apart from the backups

\`${keyFile(f)}\` opens the vault and every backup. It is deliberately outside the data directory, so it
is never inside a backup: copy it once to a place of its own (a password manager, an offline
medium), not next to the backup archives. Without it neither the vault nor any backup can be read.
`;
}
