/** Retry policy of webhook deliveries (README, "Webhooks"). */
export const RETRY_BASE_MS = 500;
/** A receiver that is down a minute gets its backlog within ~15 s of coming back. */
export const RETRY_CAP_MS = 15_000;

/**
 * Delay before retry number `attempt` (1 = after the first failure): exponential from 500 ms,
 * capped at 15 s, with equal jitter (half fixed, half random) so receivers that failed together
 * are not all retried at the same instant.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
