/**
 * A connection's settings with its secret resolved (secrets.ts), as sources and destinations
 * receive them: its home is the config room, which both may import, not either connector room.
 */
/** Connection settings with the secret already resolved (never logged, never serialised). */
export interface ResolvedConnection {
  readonly host?: string;
  readonly port?: number;
  readonly socket?: string;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  readonly ssl?: boolean;
  readonly instance?: string;
  readonly trustServerCertificate?: boolean;
  readonly connectTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
}
