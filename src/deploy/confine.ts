// Thin adapter: the confinement of what a bundle may read lives with the bundler (src/build/confine.ts).
export {
  checkMetafile,
  confinePlugin,
  createConfinement,
  realish,
  screenMessages,
  type Confinement,
  type ConfineOptions,
  type Rule,
} from "../build/confine.ts";
