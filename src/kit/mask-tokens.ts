// The daemon's token shape (`cbo_<role>_<random>`), masked in text that goes back to a person: an
// API error naming what it was given ("No token with id …"), or a CLI error echoing a flag's value,
// when a token was pasted where a name, id or URL goes. Runtime-neutral: the CLI and telemetry
// both use it.
export const TOKEN_SHAPE = /\bcbo_([a-z]+)_[A-Za-z0-9_-]{16,}/g;

export function maskTokens(text: string): string {
  return text.replace(TOKEN_SHAPE, "cbo_$1_[redacted]");
}
