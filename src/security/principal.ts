// Who is acting: a principal is a token (or a dashboard session standing in for one), and how it
// appears as the actor of an audit entry.
import type { Role } from "../store/index.ts";

/** The caller, from its bearer token. `tenant` null: the token is not scoped to one tenant. */
export type Principal = { id: string; name: string; role: Role; tenant: string | null };

/** How a token appears as an actor: its name and id (never the token). */
export const actorOf = (p: Principal): string => `token:${p.name}:${p.id}`;
/**
 * Who an actor is for a "By" column: a token's name, and its id apart (for a title or --json, where
 * two tokens with one name must be told apart). Any other actor (daemon, engine, a name already)
 * is shown as it is. The contract's, so that clients read an older daemon's answers the same way.
 */
export { createdByOf } from "../contract/index.ts";
/** The actor of what the daemon does by itself (its signing key, recovery). */
export const DAEMON_ACTOR = "daemon";
/** The actor of the release engine's lifecycle events. */
export const ENGINE_ACTOR = "engine";
