// Which Node.js compatibility a bundle gets, from the compatibility date and flags, as wrangler
// 4.164 decides it (workers-utils node-compat.ts and compatibility-date.ts):
//
//   v2    nodejs_compat_v2, or nodejs_compat from 2024-09-23, or (4.164) any date from 2026-08-04
//         without no_nodejs_compat: unenv polyfills through @cloudflare/unenv-preset
//   v1    nodejs_compat before 2024-09-23: node:* imports that do not resolve stay external
//   als   nodejs_als only: node:async_hooks external
//   null  none: node:* imports external (wrangler warns)
import { CboError } from "../kit/errors.ts";

export type NodeCompatMode = "v1" | "v2" | "als" | null;

/** From this date nodejs_compat is on by default (wrangler 4.164; 4.86 knows no such default). */
export const NODEJS_COMPAT_DEFAULT_ON_DATE = "2026-08-04";
export const NODEJS_COMPAT_V2_SWITCH_OVER_DATE = "2024-09-23";

export function nodeCompatMode(compatibilityDate: string | undefined, flags: readonly string[]): NodeCompatMode {
  if (flags.includes("experimental:nodejs_compat_v2")) {
    throw new CboError("ERR_VALIDATION", "The `experimental:` prefix on `nodejs_compat_v2` is no longer valid.", {
      hint: 'Remove the prefix: compatibility_flags = ["nodejs_compat_v2"].',
    });
  }
  if (flags.includes("nodejs_compat") && flags.includes("nodejs_compat_v2")) {
    throw new CboError("ERR_VALIDATION", "The `nodejs_compat` and `nodejs_compat_v2` compatibility flags cannot be used together.", {
      hint: "Keep just one of them.",
    });
  }
  const date = compatibilityDate ?? "2000-01-01";
  const defaultOn = date >= NODEJS_COMPAT_DEFAULT_ON_DATE;
  const compat = flags.includes("nodejs_compat") || (defaultOn && !flags.includes("no_nodejs_compat"));
  const v2 =
    flags.includes("nodejs_compat_v2") ||
    (!flags.includes("no_nodejs_compat_v2") && (defaultOn || (compat && date >= NODEJS_COMPAT_V2_SWITCH_OVER_DATE)));
  if (v2) return "v2";
  if (compat) return "v1";
  if (flags.includes("nodejs_als")) return "als";
  return null;
}

/** wrangler's navigator.userAgent rule (navigator-user-agent.ts). */
export function definesNavigator(compatibilityDate: string | undefined, flags: readonly string[]): boolean {
  if (flags.includes("global_navigator") && flags.includes("no_global_navigator")) {
    throw new CboError(
      "ERR_VALIDATION",
      'Conflicting compatibility flags: "global_navigator" and "no_global_navigator" cannot both be set.',
      { hint: "Remove one of them." },
    );
  }
  if (flags.includes("global_navigator")) return true;
  if (flags.includes("no_global_navigator")) return false;
  return !!compatibilityDate && compatibilityDate >= "2022-03-21";
}
