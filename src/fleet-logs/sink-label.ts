/** A sink named without its query, fragment or credentials (which may hold a key): what status answers and logs show. */
export const sinkLabel = (url: string): string => {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
};
