// The browser entry point (bundled by the daemon, src/api/dashboard/assets.ts): starts the page.
// First: zod's settings before any schema exists (zod-jitless.ts).
import "./zod-jitless.ts";
import { boot } from "./app.ts";

void boot();
