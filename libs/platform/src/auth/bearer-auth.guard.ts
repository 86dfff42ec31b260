import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { REQUIRED_SCOPES, type AuthenticatedRequest } from './decorators';
import { AuthPrincipal, type Scope } from './principal';
import { TOKEN_STORE, type TokenStore } from './token-store';

const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Global guard: mutating requests always need a valid token; reads are public unless the
 * handler (or its controller) declares @RequireScopes. A mutating handler that declares no
 * scopes requires `admin`, so forgetting the decorator fails closed.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_STORE) private readonly tokens: TokenStore,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const declared = this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, [
      context.getHandler(),
      context.getClass(),
    ]);
    const mutating = MUTATING_METHODS.has((request.method ?? '').toUpperCase());
    if (declared === undefined && !mutating) return true;

    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw new UnauthorizedException('missing bearer token');
    const grant = await this.tokens.findByToken(token);
    if (grant === undefined) throw new UnauthorizedException('unknown or revoked token');

    const principal = new AuthPrincipal(grant);
    for (const scope of declared ?? (['admin'] as const)) {
      if (!principal.hasScope(scope)) {
        throw new ForbiddenException(`token of ${principal.subject} lacks scope ${scope}`);
      }
    }
    request.principal = principal;
    return true;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
