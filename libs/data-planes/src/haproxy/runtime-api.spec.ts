import { isInMaintenance, isServing, parseServersState } from './runtime-api';

// Captured from HAProxy 2.6 after `set server be_web/slot-02 state ready` and `set weight ... 33`.
const answer = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 be_web 1 slot-01 127.0.0.1 2 0 0 10 2 1 0 2 0 0 0 0 - 9 - 0 0 - - 0
3 be_web 2 slot-02 127.0.0.1 2 4 33 0 0 1 0 0 8 0 0 0 - 8081 - 0 0 - - 0
3 be_web 3 slot-03 0.0.0.0 0 5 0 0 1 1 0 0 8 0 0 0 - 0 - 0 0 - - 0

`;

describe('parseServersState', () => {
  it('reads name, address, port, states and current weight by column name', () => {
    const [first, second, third] = parseServersState(answer);
    expect(first).toEqual({
      backend: 'be_web',
      name: 'slot-01',
      address: '127.0.0.1',
      port: 9,
      operationalState: 2,
      administrativeState: 0,
      weight: 0,
    });
    expect(second).toMatchObject({
      name: 'slot-02',
      port: 8081,
      weight: 33,
      administrativeState: 4,
    });
    expect(third).toMatchObject({ name: 'slot-03', operationalState: 0, administrativeState: 5 });
  });

  it('treats a config-disabled server that was set ready as serving, and forced maintenance as not', () => {
    const [first, second, third] = parseServersState(answer);
    expect([isServing(first), isServing(second), isServing(third)]).toEqual([true, true, false]);
    expect(isInMaintenance(third)).toBe(true);
    expect(isServing({ ...second, administrativeState: 0x08 })).toBe(false); // draining
  });

  it('refuses an answer without the header line', () => {
    expect(() => parseServersState("Can't find backend.\n")).toThrow(
      "unexpected 'show servers state' answer",
    );
  });
});
