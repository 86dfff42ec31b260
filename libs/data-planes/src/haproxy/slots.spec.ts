import { RouteTable } from '../port';
import { SlotTable, planSlots, slotName } from './slots';

const at = (id: string, port: number) => ({ id, host: '10.0.0.1', port });
const empty = (n: number): SlotTable => Array.from({ length: n }, () => undefined);
const ids = (slots: SlotTable) => slots.map((slot) => slot?.instance.id ?? '-');

describe('planSlots', () => {
  const first: RouteTable = {
    service: 'web',
    weights: { stable: 95, canary: 5 },
    backends: { stable: [at('s1', 1), at('s2', 2)], canary: [at('c1', 3)] },
  };

  it('fills the lowest slots in group order with the server weights', () => {
    const slots = planSlots(empty(4), first, 4);
    expect(ids(slots)).toEqual(['s1', 's2', 'c1', '-']);
    expect(slots.map((slot) => slot?.weight)).toEqual([238, 237, 25, undefined]);
  });

  it('keeps instances in their slots, frees the ones that left and gives newcomers free slots', () => {
    const before = planSlots(empty(4), first, 4);
    const next = planSlots(
      before,
      {
        service: 'web',
        weights: { stable: 80, baseline: 10, canary: 10 },
        backends: {
          stable: [at('s1', 1), at('s2', 2)],
          baseline: [at('b1', 4)],
          canary: [at('c2', 5)],
        },
      },
      4,
    );
    expect(ids(next)).toEqual(['s1', 's2', 'b1', 'c2']);
    expect(next.map((slot) => slot?.weight)).toEqual([240, 240, 60, 60]);
    expect(next[2]?.group).toBe('baseline');
  });

  it('treats an instance whose address changed as a new one', () => {
    const before = planSlots(
      empty(3),
      { service: 'web', weights: { stable: 100 }, backends: { stable: [at('s1', 1)] } },
      3,
    );
    const next = planSlots(
      before,
      { service: 'web', weights: { stable: 100 }, backends: { stable: [at('s1', 9)] } },
      3,
    );
    expect(next[0]?.instance.port).toBe(9);
  });

  it('refuses more instances than slots, saying how many are needed', () => {
    expect(() => planSlots(empty(2), first, 2)).toThrow(
      "service 'web' needs 3 server slots but haproxy.cfg declares 2",
    );
  });

  it('names slots so they sort', () => {
    expect([slotName(0), slotName(9), slotName(10)]).toEqual(['slot-01', 'slot-10', 'slot-11']);
  });
});
