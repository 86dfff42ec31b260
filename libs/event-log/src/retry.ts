import { DEFAULT_RETRY, type RetryOptions } from './port';

export function retryOptions(partial: Partial<RetryOptions> | undefined): RetryOptions {
  return { ...DEFAULT_RETRY, ...partial };
}

/** Exponential backoff: initial, 2x, 4x, ... capped. */
export function backoffDelay(options: RetryOptions, attempt: number): number {
  return Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
