import { GroupTrafficAccounts, parseServerCounts, type ServerCounts } from './traffic-counters';
import type { SlotTable } from './slots';

const HEADER =
  '# pxname,svname,qcur,stot,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,eresp,';

const slot = (group: 'stable' | 'canary', id: string) => ({
  group,
  instance: { id, host: '127.0.0.1', port: 1 },
  weight: 1,
});
const counts = (entries: Record<string, [number, number]>) =>
  new Map<string, ServerCounts>(
    Object.entries(entries).map(([name, [responses, errors]]) => [name, { responses, errors }]),
  );

describe('HAProxy traffic counters', () => {
  it('reads responses and 5xx per server of one backend from show stat', () => {
    const csv = [
      HEADER,
      'be_shop,slot-01,0,10,0,90,0,5,3,0,2,',
      'be_shop,BACKEND,0,10,0,90,0,5,3,0,2,',
      'be_other,slot-01,0,10,0,7,0,0,0,0,0,',
      '',
    ].join('\n');
    expect(parseServerCounts(csv, 'be_shop')).toEqual(
      new Map([['slot-01', { responses: 100, errors: 5 }]]),
    );
    expect(() => parseServerCounts('Unknown command', 'be_shop')).toThrow(/unexpected 'show stat'/);
  });

  it('keeps what a slot counted with the group it served when the slot changes hands', () => {
    const accounts = new GroupTrafficAccounts();
    const first: SlotTable = [slot('stable', 's1'), slot('canary', 'c1')];
    accounts.move(first, counts({}));
    // c1 leaves after 40 responses (10 errors); c2 then takes the same slot.
    const second: SlotTable = [slot('stable', 's1'), slot('canary', 'c2')];
    expect(accounts.changes(second)).toBe(true);
    accounts.move(second, counts({ 'slot-01': [100, 0], 'slot-02': [40, 10] }));
    // c1 is promoted to stable in place: its count so far stays canary.
    const now = counts({ 'slot-01': [150, 0], 'slot-02': [60, 11] });
    const snapshot = accounts.snapshot('shop', now).groups;
    expect(snapshot.stable).toMatchObject({ requests: 150, errors: 0 });
    expect(snapshot.canary).toMatchObject({ requests: 60, errors: 11 });

    const promoted: SlotTable = [slot('stable', 's1'), slot('stable', 'c2')];
    expect(accounts.changes(promoted)).toBe(true);
    accounts.move(promoted, now);
    const later = accounts.snapshot('shop', counts({ 'slot-01': [160, 0], 'slot-02': [70, 11] }));
    expect(later.groups.canary).toMatchObject({ requests: 60, errors: 11 });
    expect(later.groups.stable).toMatchObject({ requests: 170, errors: 0 });
    expect(accounts.changes(promoted)).toBe(false);
  });
});
