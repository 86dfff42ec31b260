import type { EventEnvelope, FlagUpdatedV1, NewEvent } from '@rollgate/contracts';
import { DomainError, type Decision } from '@rollgate/event-sourcing';
import { buildRuleset } from '../ruleset';
import { evaluate } from '../evaluate';
import {
  decideConfigureProject,
  decideCreateFlag,
  decideDefineSegment,
  decideExtend,
  decideFlagDebt,
  decideKill,
  decideRetire,
  decideSetRollout,
  decideUpdateDefinition,
  decideUpdateEnvironment,
  FlagInputError,
  projectAccessProblem,
  releaseBlockingFlags,
  undeclaredReaders,
  type FleetSnapshot,
} from './decisions';
import {
  evolveProjectFlags,
  initialProjectState,
  rulesetOf,
  type ProjectFlagsState,
} from './project-flags';

const origin = { actor: 'user:alice', causationId: null };
const created = new Date('2026-01-01T00:00:00.000Z');

/** Folds decided events as the event store would: next sequence, time from `at`. */
function apply(state: ProjectFlagsState, decision: Decision, at = created): ProjectFlagsState {
  return decision.reduce(
    (s, e: NewEvent, i) =>
      evolveProjectFlags(s, {
        ...e,
        id: `e${s.version + 1}`,
        occurredAt: at.toISOString(),
        sequence: state.version + i + 1,
      } as EventEnvelope),
    state,
  );
}

function withFlag(key = 'new-cart', type: 'release' | 'operational' = 'release') {
  const state = initialProjectState('default');
  return apply(
    state,
    decideCreateFlag(state, { key, type, owner: 'team-cart', reason: 'new' }, origin, created),
  );
}

const fleet = (instances: { id: string; service: string; flags: string[] | null }[]) =>
  ({ ok: true, instances }) as FleetSnapshot;

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('project flags aggregate', () => {
  it('creates a flag off in every environment at ruleset version 1', () => {
    const state = withFlag();
    const ruleset = rulesetOf(state);
    expect(ruleset.version).toBe(1);
    expect(ruleset.flags.map((f) => f.key)).toEqual(['new-cart']);
    expect(ruleset.flags[0]!.environments['production']).toEqual({ enabled: false });
    expect(ruleset.flags[0]!.createdAt).toBe(created.toISOString());
    expect(buildRuleset(ruleset).ok).toBe(true);
  });

  it('refuses an unknown project until it is configured', () => {
    const other = initialProjectState('payments');
    const error = thrown(() =>
      decideCreateFlag(
        other,
        { key: 'x', type: 'release', owner: 'o', reason: 'r' },
        origin,
        created,
      ),
    );
    expect((error as DomainError).code).toBe('not-found');
    const configured = apply(
      other,
      decideConfigureProject(
        other,
        {
          environments: ['dev', 'prod'],
          blockReleasesOnExpiredFlags: true,
          services: ['checkout'],
          reason: 'new team',
        },
        origin,
      ),
    );
    expect(configured.exists).toBe(true);
    expect(rulesetOf(configured).environments).toEqual(['dev', 'prod']);
    expect(configured.services).toEqual(['checkout']);
  });

  describe('ownership: which service-limited tokens may change a project', () => {
    const owned = (services: string[]): ProjectFlagsState => ({
      ...initialProjectState('payments'),
      exists: true,
      services,
    });

    it('lets a token for every service change any project', () => {
      expect(projectAccessProblem(owned([]), undefined)).toBeUndefined();
      expect(projectAccessProblem(initialProjectState('new'), undefined, [])).toBeUndefined();
    });

    it('needs one owner service in the token', () => {
      expect(projectAccessProblem(owned(['checkout', 'orders']), ['orders'])).toBeUndefined();
      expect(projectAccessProblem(owned(['checkout']), ['orders'])).toBe(
        'project "payments" is owned by checkout; this token may touch orders',
      );
      expect(projectAccessProblem(owned([]), ['orders'])).toMatch(/has no owner services/);
    });

    it('never lets a limited token take a project over or hand it away', () => {
      expect(projectAccessProblem(owned(['checkout']), ['checkout'], ['orders'])).toBe(
        'this token may touch checkout, not the owner services orders',
      );
      expect(projectAccessProblem(initialProjectState('new'), ['checkout'], [])).toMatch(
        /must name the project's owner services/,
      );
      expect(
        projectAccessProblem(initialProjectState('new'), ['checkout'], ['checkout']),
      ).toBeUndefined();
    });

    it('records the owners on the project event and keeps them when a change leaves them out', () => {
      const state = owned(['checkout']);
      const renamed = decideConfigureProject(
        state,
        {
          environments: [...state.environments],
          blockReleasesOnExpiredFlags: true,
          services: state.services,
          reason: 'block',
        },
        origin,
      );
      expect(renamed[0]!.data).toMatchObject({ services: ['checkout'] });
      const same = decideConfigureProject(
        state,
        { ...state, services: ['checkout'], reason: 'again' },
        origin,
      );
      expect(same).toEqual([]);
    });
  });

  it('tombstones a retired name forever: re-creating it is a conflict', () => {
    const state = withFlag();
    const retired = apply(state, decideRetire(state, { key: 'new-cart', reason: 'done' }, origin));
    expect(rulesetOf(retired).flags).toEqual([]);
    expect(retired.version).toBe(2);
    const error = thrown(() =>
      decideCreateFlag(
        retired,
        { key: 'new-cart', type: 'release', owner: 'o', reason: 'again' },
        origin,
        created,
      ),
    ) as DomainError;
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/retired .* can never be reused/);
  });

  it('records before and after on every rules change, and each change bumps the version', () => {
    let state = withFlag();
    const config = { enabled: true, rollout: { percentage: 30 } };
    const decision = decideUpdateEnvironment(
      state,
      {
        key: 'new-cart',
        environment: 'staging',
        config,
        reason: 'try it',
        fleet: fleet([]),
      },
      origin,
    );
    const data = decision[0]!.data as FlagUpdatedV1;
    expect(data.before).toEqual({ enabled: false });
    expect(data.after).toEqual(config);
    expect(data.rulesetVersion).toBe(2);
    state = apply(state, decision);
    state = apply(
      state,
      decideSetRollout(
        state,
        { key: 'new-cart', environment: 'staging', percentage: 60, reason: 'ramp' },
        origin,
      ),
    );
    expect(state.version).toBe(3);
    expect(rulesetOf(state).flags[0]!.environments['staging']!.rollout).toEqual({
      percentage: 60,
    });
  });

  it('refuses an invalid rule with 400-style problems naming the field', () => {
    const state = withFlag();
    const error = thrown(() =>
      decideUpdateEnvironment(
        state,
        {
          key: 'new-cart',
          environment: 'production',
          config: {
            enabled: false,
            rules: [
              {
                constraints: [
                  { attribute: 'plan', operator: 'BETWEEN' as never, values: ['a'] },
                  { attribute: 'appVersion', operator: 'SEMVER_GT', values: ['2.0'] },
                ],
              },
            ],
            variants: [{ name: 'a', weight: 400 }],
          },
          reason: 'bad',
        },
        origin,
      ),
    ) as FlagInputError;
    expect(error).toBeInstanceOf(FlagInputError);
    const fields = error.problems.map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'rules[0].constraints[0].operator',
        'rules[0].constraints[1].values[0]',
        'variants',
      ]),
    );
  });

  it('refuses a prerequisite cycle, naming the field', () => {
    let state = withFlag('a');
    state = apply(
      state,
      decideCreateFlag(
        state,
        { key: 'b', type: 'release', owner: 'o', reason: 'r' },
        origin,
        created,
      ),
    );
    state = apply(
      state,
      decideUpdateDefinition(
        state,
        { key: 'b', prerequisites: [{ flag: 'a' }], reason: 'r' },
        origin,
      ),
    );
    const error = thrown(() =>
      decideUpdateDefinition(
        state,
        { key: 'a', prerequisites: [{ flag: 'b' }], reason: 'r' },
        origin,
      ),
    ) as FlagInputError;
    expect(error.problems[0]).toEqual({
      field: 'prerequisites[0].flag',
      problem: 'prerequisite cycle: a → b → a',
    });
    // …and a flag others depend on cannot be retired.
    const retire = thrown(() => decideRetire(state, { key: 'a', reason: 'r' }, origin));
    expect((retire as DomainError).code).toBe('conflict');
  });

  it('kill turns the environment off and leaves its rules in place', () => {
    let state = withFlag();
    const config = { enabled: true, defaultServe: true };
    state = apply(
      state,
      decideUpdateEnvironment(
        state,
        { key: 'new-cart', environment: 'production', config, reason: 'go', fleet: fleet([]) },
        origin,
      ),
    );
    const ruleset = () => buildRuleset(rulesetOf(state));
    const built = ruleset();
    if (!built.ok) throw new Error('invalid');
    expect(evaluate(built.ruleset, 'new-cart', 'production', { userId: 'u' }).enabled).toBe(true);
    state = apply(
      state,
      decideKill(state, { key: 'new-cart', environment: 'production', reason: 'errors' }, origin),
    );
    const after = ruleset();
    if (!after.ok) throw new Error('invalid');
    const result = evaluate(after.ruleset, 'new-cart', 'production', { userId: 'u' });
    expect(result).toMatchObject({ enabled: false, reason: 'OFF', rulesetVersion: 3 });
    expect(rulesetOf(state).flags[0]!.environments['production']).toEqual({
      enabled: false,
      defaultServe: true,
    });
    // Killing it again changes nothing.
    expect(
      decideKill(state, { key: 'new-cart', environment: 'production', reason: 'again' }, origin),
    ).toEqual([]);
  });
});

describe('enablement guard', () => {
  const instances = [
    { id: 'cart-1', service: 'cart', flags: ['new-cart'] },
    { id: 'cart-2', service: 'cart', flags: ['new-cart'] },
    { id: 'cart-3', service: 'cart', flags: [] },
    { id: 'cart-4', service: 'cart', flags: null },
    { id: 'search-1', service: 'search', flags: [] },
  ];

  it('names the instances of reading services whose build does not declare the flag', () => {
    expect(undeclaredReaders('new-cart', instances)).toEqual([
      { instanceId: 'cart-3', service: 'cart', declares: 'no' },
      { instanceId: 'cart-4', service: 'cart', declares: 'unknown' },
    ]);
    expect(undeclaredReaders('unread-flag', instances)).toEqual([]);
  });

  const turnOn = (state: ProjectFlagsState, snapshot: FleetSnapshot, force?: string) =>
    decideUpdateEnvironment(
      state,
      {
        key: 'new-cart',
        environment: 'production',
        config: { enabled: true },
        reason: 'launch',
        fleet: snapshot,
        ...(force ? { force: { reason: force } } : {}),
      },
      origin,
    );

  it('refuses to turn a flag on while a non-declaring build is live, unless forced', () => {
    const state = withFlag();
    const error = thrown(() => turnOn(state, fleet(instances))) as DomainError;
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('cart-3 (cart)');
    expect(error.message).toContain('cart-4 (cart)');
    const forced = turnOn(state, fleet(instances), 'hotfix, cart-3 drains in a minute');
    expect((forced[0]!.data as FlagUpdatedV1).forced).toEqual({
      reason: 'hotfix, cart-3 drains in a minute',
      instances: ['cart-3', 'cart-4'],
    });
  });

  it('fails safe when the fleet cannot be asked, and allows a fully declared fleet', () => {
    const state = withFlag();
    const down = { ok: false, error: 'connection refused' } as FleetSnapshot;
    expect((thrown(() => turnOn(state, down)) as DomainError).code).toBe('conflict');
    const declared = turnOn(state, fleet(instances.slice(0, 2)));
    expect((declared[0]!.data as FlagUpdatedV1).forced).toBeUndefined();
  });
});

describe('flag debt', () => {
  const day = 86_400_000;

  it('reports expiry and staleness once per date, and again after an extension passes', () => {
    let state = withFlag();
    expect(decideFlagDebt(state, new Date(created.getTime() + 10 * day), origin)).toEqual([]);
    const later = new Date(created.getTime() + 41 * day);
    const debt = decideFlagDebt(state, later, origin);
    expect(debt.map((e) => (e.data as { condition: string }).condition)).toEqual([
      'expired',
      'potentially-stale',
    ]);
    state = apply(state, debt);
    expect(decideFlagDebt(state, later, origin)).toEqual([]);
    const extendTo = new Date(created.getTime() + 50 * day).toISOString();
    state = apply(
      state,
      decideExtend(
        state,
        { key: 'new-cart', expiresAt: extendTo, reason: 'one more sprint' },
        origin,
        later,
      ),
    );
    expect(decideFlagDebt(state, later, origin)).toEqual([]);
    const afterExtension = decideFlagDebt(state, new Date(created.getTime() + 51 * day), origin);
    expect(afterExtension.map((e) => (e.data as { condition: string }).condition)).toEqual([
      'expired',
      'potentially-stale',
    ]);
  });

  it('blocks releases with expired flags only in projects that ask for it', () => {
    const state = withFlag();
    const later = new Date(created.getTime() + 41 * day);
    expect(releaseBlockingFlags(state, ['new-cart'], later)).toEqual([]);
    const strict = { ...state, blockReleasesOnExpiredFlags: true };
    expect(releaseBlockingFlags(strict, ['new-cart', 'other'], later).map((f) => f.key)).toEqual([
      'new-cart',
    ]);
    expect(releaseBlockingFlags(strict, ['new-cart'], created)).toEqual([]);
  });
});

describe('segments', () => {
  it('lets rules use a segment, and a changed segment changes every rule that uses it', () => {
    let state = withFlag();
    const beta = [{ attribute: 'plan', operator: 'IN' as const, values: ['beta'] }];
    state = apply(
      state,
      decideDefineSegment(state, { key: 'beta-users', constraints: beta, reason: 'r' }, origin),
    );
    state = apply(
      state,
      decideUpdateEnvironment(
        state,
        {
          key: 'new-cart',
          environment: 'production',
          config: { enabled: true, rules: [{ constraints: [], segments: ['beta-users'] }] },
          reason: 'beta first',
          fleet: fleet([]),
        },
        origin,
      ),
    );
    const evaluateAt = (plan: string) => {
      const built = buildRuleset(rulesetOf(state));
      if (!built.ok) throw new Error(JSON.stringify(built.errors));
      return evaluate(built.ruleset, 'new-cart', 'production', { plan }).enabled;
    };
    expect([evaluateAt('beta'), evaluateAt('gold')]).toEqual([true, false]);
    const widened = [{ attribute: 'plan', operator: 'IN' as const, values: ['beta', 'gold'] }];
    state = apply(
      state,
      decideDefineSegment(state, { key: 'beta-users', constraints: widened, reason: 'r' }, origin),
    );
    expect(evaluateAt('gold')).toBe(true);
  });

  it('names the field of a bad segment constraint and of an unknown segment in a rule', () => {
    const state = withFlag();
    const bad = thrown(() =>
      decideDefineSegment(
        state,
        {
          key: 'old-apps',
          constraints: [{ attribute: 'v', operator: 'SEMVER_LT', values: ['1.x'] }],
          reason: 'r',
        },
        origin,
      ),
    ) as FlagInputError;
    expect(bad.problems.map((p) => p.field)).toEqual(['constraints[0].values[0]']);
    const unknown = thrown(() =>
      decideUpdateEnvironment(
        state,
        {
          key: 'new-cart',
          environment: 'staging',
          config: { enabled: false, rules: [{ constraints: [], segments: ['nope'] }] },
          reason: 'r',
        },
        origin,
      ),
    ) as FlagInputError;
    expect(unknown.problems).toEqual([
      { field: 'rules[0].segments[0]', problem: 'unknown segment "nope"' },
    ]);
  });
});
