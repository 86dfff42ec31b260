import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  ForbiddenException,
  SetMetadata,
} from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import type { IncomingMessage } from 'node:http';
import type { AuthPrincipal, Scope } from './principal';

export const REQUIRED_SCOPES = 'rollgate:required-scopes';
/** The OpenAPI operation extension listing the scopes a route needs (tests and clients read it). */
export const SCOPES_EXTENSION = 'x-rollgate-scopes';
export const BEARER_SCHEME = 'bearer';

/** The request after BearerAuthGuard authenticated it (express requests are IncomingMessages). */
export interface AuthenticatedRequest extends IncomingMessage {
  principal?: AuthPrincipal;
}

/**
 * Requires a bearer token holding every listed scope (admin implies all), on any HTTP method.
 * `@RequireScopes()` with no scope accepts any valid token.
 */
export const RequireScopes = (...scopes: Scope[]) =>
  applyDecorators(
    SetMetadata(REQUIRED_SCOPES, scopes),
    ApiBearerAuth(BEARER_SCHEME),
    ApiExtension(SCOPES_EXTENSION, scopes),
  );

/**
 * The authenticated caller. Set on every mutating request and on handlers with @RequireScopes;
 * undefined on public GETs.
 */
export const Principal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthPrincipal | undefined =>
    ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal,
);

/** Throws 403 unless the principal's token may act on `service`. */
export function assertMayTouchService(principal: AuthPrincipal, service: string): void {
  if (!principal.mayTouchService(service)) {
    throw new ForbiddenException(`token of ${principal.subject} may not touch service ${service}`);
  }
}
