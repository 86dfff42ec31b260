import { BadRequestException } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import type { FieldProblem } from './validation';

/** The 400 every boundary answers: each problem names its field. */
export const invalidFields = (details: FieldProblem[]) =>
  new BadRequestException({ message: 'validation failed', details });

/** `?at=`: an ISO 8601 moment, normalised to UTC; undefined means now; anything else is a 400. */
export function momentQuery(at: string | undefined, field = 'at'): string | undefined {
  if (at === undefined) return undefined;
  const time = Date.parse(at);
  if (!/^\d{4}-\d{2}-\d{2}/.test(at) || Number.isNaN(time))
    throw invalidFields([{ field, problem: 'must be an ISO 8601 date-time' }]);
  return new Date(time).toISOString();
}

/**
 * A document sent as text (a file kept in git, JSON or YAML) or already as JSON. YAML aliases
 * are refused: a few bytes of them can expand into a huge document.
 */
export function decodeDocument(raw: unknown, field: string): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return parseYaml(raw, { maxAliasCount: 0 }) as unknown;
  } catch (error) {
    throw invalidFields([
      { field, problem: `is neither JSON nor YAML: ${(error as Error).message}` },
    ]);
  }
}
