// The process the migration crash test kills: says `opening` on stdout, then opens (and so
// migrates) the store named by argv[2] with the real createStore, then says `done`.
import { createStore } from "../../src/store/index.ts";

const file = process.argv[2];
if (!file) throw new Error("usage: open-store-child.ts <orchestrator.sqlite>");
process.stdout.write("opening\n");
createStore(file).close();
process.stdout.write("done\n");
