import { createHash, randomBytes } from 'node:crypto';
import type { TokenGrant } from './principal';

/** Resolves a presented bearer token to what it grants; undefined for unknown or revoked tokens. */
export interface TokenStore {
  findByToken(token: string): Promise<TokenGrant | undefined>;
}

/** Injection token under which RollgateHttpModule provides the app's TokenStore. */
export const TOKEN_STORE = Symbol('TOKEN_STORE');

export const sha256Hex = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

/** 256 random bits; the prefix makes leaked tokens easy to recognise in logs and scanners. */
export const generateToken = (): string => `rg_${randomBytes(32).toString('base64url')}`;
