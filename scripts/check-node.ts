// Fails fast with a readable message when the tests are run on a Node older than 24
// (e.g. a system Node 20 outside `npm test`, which puts the npm-installed Node 24 first on PATH).
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(`error ERR_NODE_VERSION: Node ${process.versions.node} found; Node 24 or newer is required.`);
  process.exit(2);
}
