// zod builds fast object parsers with `new Function` unless told not to, and even its probe of
// whether that is allowed is reported as a Content-Security-Policy violation on the dashboard's
// pages (no 'unsafe-eval'). main.ts imports this module first, so the setting holds before the
// contract's schemas (read by the daemon client) are built.
import * as z from "zod";

z.config({ jitless: true });
