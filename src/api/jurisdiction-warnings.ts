// A secret tagged with a jurisdiction no target has reaches no target through that tag (a typo,
// `mars` for `eu`, left it delivered nowhere, silently). Warned about, not refused: the target
// may be declared later, and the tag then applies as written.
import { closest } from "../kit/did-you-mean.ts";

/** One warning per tag in `tags` that no target in `targets` has, with a did-you-mean. */
export function jurisdictionWarnings(
  secret: string,
  tags: readonly string[],
  targets: ReadonlyArray<{ jurisdiction?: string | undefined }>,
): string[] {
  const known = [...new Set(targets.flatMap((t) => (t.jurisdiction ? [t.jurisdiction] : [])))].sort();
  return [...new Set(tags)]
    .filter((tag) => !known.includes(tag))
    .map((tag) => {
      const meant = closest(tag, known);
      const has = known.length ? `the targets have ${known.join(", ")}` : "no target has a jurisdiction";
      return `no target in orchestrator.yaml has jurisdiction "${tag}" (${has}), so ${secret} reaches no target through it${meant ? `; did you mean "${meant}"?` : ""}`;
    });
}
