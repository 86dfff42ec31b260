/** `ingest`: SDKs reporting guarded-rollout outcomes; kept apart from `read` (docs/adr/0011). */
export const SCOPES = ['read', 'deploy', 'flags', 'migrate', 'ingest', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (value: unknown): value is Scope => SCOPES.includes(value as Scope);

/** What a token grants: who holds it, what it may do, and (optionally) which services it may touch. */
export interface TokenGrant {
  subject: string;
  scopes: readonly Scope[];
  /** Absent means every service. */
  services?: readonly string[];
}

/** The caller of an authenticated request, as handlers see it via @Principal(). */
export class AuthPrincipal {
  constructor(private readonly grant: TokenGrant) {}

  get subject(): string {
    return this.grant.subject;
  }

  get scopes(): readonly Scope[] {
    return this.grant.scopes;
  }

  /** The services this token is limited to; undefined means every service. */
  get services(): readonly string[] | undefined {
    return this.grant.services;
  }

  /** The `actor` written on every event this principal causes. */
  get actor(): string {
    return `user:${this.grant.subject}`;
  }

  /** `admin` implies every scope. */
  hasScope(scope: Scope): boolean {
    return this.grant.scopes.includes('admin') || this.grant.scopes.includes(scope);
  }

  /** A service list restricts every scope, admin included: it is the token's blast radius. */
  mayTouchService(service: string): boolean {
    return this.grant.services === undefined || this.grant.services.includes(service);
  }
}
