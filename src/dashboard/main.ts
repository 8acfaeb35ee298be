// The browser entry point (bundled by the daemon, src/api/dashboard-assets.ts): starts the page.
import { boot } from "./app.ts";

void boot();
