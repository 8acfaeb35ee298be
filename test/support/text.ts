// wrangler colours its error box even with NO_COLOR; tests match on the plain text.
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, "");
}
