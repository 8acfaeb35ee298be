// glob-to-regexp 0.4.1 (BSD-2-Clause, Nick Fitzgerald), the package wrangler matches module rules
// with, ported as is: the same glob must match the same paths. Two uses, as in wrangler: without
// `globstar` for esbuild onResolve filters (each * is .*, so "**/*.txt" needs a "/" in the
// import path), and with it for find_additional_modules (a * stops at "/").
export function globToRegExp(glob: string, opts: { globstar?: boolean } = {}): RegExp {
  const globstar = !!opts.globstar;
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    switch (c) {
      case "/":
      case "$":
      case "^":
      case "+":
      case ".":
      case "(":
      case ")":
      case "=":
      case "!":
      case "|":
        re += "\\" + c;
        break;
      // Not `extended`: ? [ ] { } , are literal characters.
      case "?":
      case "[":
      case "]":
      case "{":
      case "}":
      case ",":
        re += "\\" + c;
        break;
      case "*": {
        const prev = glob[i - 1];
        let stars = 1;
        while (glob[i + 1] === "*") {
          stars++;
          i++;
        }
        const next = glob[i + 1];
        if (!globstar) re += ".*";
        else if (stars > 1 && (prev === "/" || prev === undefined) && (next === "/" || next === undefined)) {
          re += "((?:[^/]*(?:/|$))*)";
          i++;
        } else re += "([^/]*)";
        break;
      }
      default:
        re += c;
    }
  }
  return new RegExp("^" + re + "$");
}
