import type { DataSource } from 'typeorm';
import { wakeUpChannel } from './wake-ups';

const options = (o: object) => o as DataSource['options'];

describe('wake-up channels', () => {
  it('are named by schema and topic on PostgreSQL, so only replicas of one installation share one', () => {
    expect(wakeUpChannel(options({ type: 'postgres', schema: 'acme_orchestrator' }), 'x')).toBe(
      'acme_orchestrator_x',
    );
    expect(wakeUpChannel(options({ type: 'postgres' }), 'x')).toBe('public_x');
  });

  it('do not exist on SQLite (one process) nor past the 63 characters PostgreSQL keeps', () => {
    expect(wakeUpChannel(options({ type: 'better-sqlite3' }), 'x')).toBeNull();
    expect(wakeUpChannel(options({ type: 'postgres', schema: 's'.repeat(62) }), 'x')).toBeNull();
  });
});
