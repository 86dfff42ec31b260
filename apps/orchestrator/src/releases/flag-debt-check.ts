import { Logger } from '@nestjs/common';

/** An expired flag that blocks a release (its project asks for that). */
export interface BlockingFlag {
  project: string;
  key: string;
  owner: string;
  expiresAt: string;
}

/**
 * Flag debt as a release gate: which expired flags, among those the new build reads, block it.
 * A port, so the release path does not care where flags live.
 */
export interface FlagDebtCheck {
  blockingFlags(service: string, flags: readonly string[]): Promise<BlockingFlag[]>;
}

export const FLAG_DEBT_CHECK = Symbol('FLAG_DEBT_CHECK');

/**
 * Asks the flags service (ROLLGATE_FLAGS_URL). Flag debt is a hygiene gate, not a safety one:
 * when the flags service cannot answer, the release goes on and the miss is logged, rather than
 * every deploy stopping with it.
 */
export class HttpFlagDebtCheck implements FlagDebtCheck {
  private readonly logger = new Logger('flag-debt-check');

  constructor(
    private readonly flagsUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 2_000,
  ) {}

  async blockingFlags(service: string, flags: readonly string[]): Promise<BlockingFlag[]> {
    if (flags.length === 0) return [];
    const query = new URLSearchParams({ service, flags: flags.join(',') });
    const url = `${this.flagsUrl}/flags/blocking?${query.toString()}`;
    try {
      const response = await fetch(url, {
        headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) throw new Error(`answered ${response.status}`);
      const body = (await response.json()) as { flags?: BlockingFlag[] };
      return Array.isArray(body.flags) ? body.flags : [];
    } catch (error) {
      this.logger.warn(`flag debt not checked for ${service} (${url}): ${String(error)}`);
      return [];
    }
  }
}
