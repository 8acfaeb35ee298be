// Orderings that are the same on every host. `localeCompare` follows the host's locale, and its
// first call loads ICU's collation data (about 3 MiB of RSS in the daemon, which would pay it on
// every drift pass): internal orderings use plain UTF-16 code-unit order instead.

/** Code-unit order (what Array.prototype.sort does without a comparator), as a comparator. */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
