// The shape shared by the router (which puts descriptors under env.__CBO_SHIM) and the factories
// (which turn them into binding objects): its own file, so the factories do not import shim.ts,
// which imports them.

/** What the router puts under env.__CBO_SHIM for one binding: its kind, plus what the factory needs. */
export type ShimDescriptor = { kind: string; [key: string]: unknown };
/** Builds the binding object a Worker sees from its descriptor; `binding` is the env key (for messages). */
export type ShimFactory = (descriptor: ShimDescriptor, binding: string) => unknown;
