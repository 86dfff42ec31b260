import { AuthPrincipal } from './principal';

describe('AuthPrincipal', () => {
  it('acts as user:<subject> on events', () => {
    expect(new AuthPrincipal({ subject: 'alice', scopes: ['read'] }).actor).toBe('user:alice');
  });

  it('holds only its own scopes unless it is admin', () => {
    const deployer = new AuthPrincipal({ subject: 'ci', scopes: ['deploy'] });
    expect(deployer.hasScope('deploy')).toBe(true);
    expect(deployer.hasScope('flags')).toBe(false);

    const admin = new AuthPrincipal({ subject: 'ops', scopes: ['admin'] });
    expect(['read', 'deploy', 'flags', 'migrate'].every((s) => admin.hasScope(s as never))).toBe(
      true,
    );
  });

  it('may touch every service without a list, and only the listed ones with one (admin too)', () => {
    expect(new AuthPrincipal({ subject: 'a', scopes: ['deploy'] }).mayTouchService('x')).toBe(true);
    const limited = new AuthPrincipal({ subject: 'b', scopes: ['admin'], services: ['checkout'] });
    expect(limited.mayTouchService('checkout')).toBe(true);
    expect(limited.mayTouchService('payments')).toBe(false);
  });
});
