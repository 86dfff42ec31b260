import { ServerState } from './runtime-api';
import {
  addressChangeAccepted,
  addressCommands,
  readRoute,
  weightAndStateCommands,
} from './slot-commands';
import { SlotTable } from './slots';

const slots: SlotTable = [
  { group: 'stable', instance: { id: 's1', host: '10.0.0.1', port: 80 }, weight: 190 },
  { group: 'canary', instance: { id: 'c1', host: '10.0.0.2', port: 81 }, weight: 10 },
  undefined,
];

const row = (
  name: string,
  address: string,
  port: number,
  weight: number,
  admin = 0,
  op = 2,
): ServerState => ({
  backend: 'be_web',
  name,
  address,
  port,
  weight,
  administrativeState: admin,
  operationalState: op,
});

describe('addressCommands', () => {
  it('moves only the slots whose live address differs', () => {
    const live = [
      row('slot-01', '10.0.0.1', 80, 190),
      row('slot-02', '0.0.0.0', 0, 0, 5, 0),
      row('slot-03', '0.0.0.0', 0, 0, 5, 0),
    ];
    expect(addressCommands('be_web', slots, live)).toEqual([
      'set server be_web/slot-02 addr 10.0.0.2 port 81',
    ]);
  });

  it('recognises HAProxy answers that confirm an address change', () => {
    expect(
      addressChangeAccepted(
        "IP changed from '0.0.0.0' to '10.0.0.2', port changed from '+0' to '81' by 'stats socket command'",
      ),
    ).toBe(true);
    expect(
      addressChangeAccepted("no need to change the addr, port changed from '9' to '8082'"),
    ).toBe(true);
    expect(addressChangeAccepted('No such server.')).toBe(false);
  });
});

describe('weightAndStateCommands', () => {
  it('sets weights first, then readies the used slots and parks free ones in maintenance', () => {
    expect(weightAndStateCommands('be_web', slots)).toEqual([
      'set weight be_web/slot-01 190',
      'set weight be_web/slot-02 10',
      'set weight be_web/slot-03 0',
      'set server be_web/slot-01 state ready',
      'set server be_web/slot-02 state ready',
      'set server be_web/slot-03 state maint',
    ]);
  });
});

describe('readRoute', () => {
  it('computes the shares from live weights of serving slots', () => {
    const live = [
      row('slot-01', '10.0.0.1', 80, 190),
      row('slot-02', '10.0.0.2', 81, 10),
      row('slot-03', '0.0.0.0', 0, 0, 5, 0),
    ];
    const read = readRoute(slots, live);
    expect(read.problems).toEqual([]);
    expect(read.weights).toMatchObject({ stable: 95, canary: 5 });
    expect(read.backends).toEqual({
      stable: [{ id: 's1', host: '10.0.0.1', port: 80 }],
      canary: [{ id: 'c1', host: '10.0.0.2', port: 81 }],
    });
  });

  it('reports a wrong weight, a slot in maintenance, a wrong address and a stray serving slot', () => {
    const live = [
      row('slot-01', '10.0.0.9', 80, 100),
      row('slot-02', '10.0.0.2', 81, 10, 1),
      row('slot-03', '10.0.0.3', 80, 5),
    ];
    const read = readRoute(slots, live);
    expect(read.problems).toEqual([
      'slot-01 (stable s1) points at 10.0.0.9:80, expected 10.0.0.1:80',
      'slot-01 (stable s1) has weight 100, expected 190',
      'slot-02 (canary c1) is not serving (op 2, admin 1)',
      'slot-03 serves but holds no instance',
    ]);
    expect(read.weights).toMatchObject({ stable: 100, canary: 0 });
  });

  it('reports a missing server', () => {
    expect(readRoute(slots, []).problems).toContain('server slot-01 is missing');
  });
});
