/** ROLLGATE_SIMULATED_* settings of the simulated fleet (scale tests only). */
export interface SimulatedSettings {
  /** Requests/s per instance synthesised into its /metrics (ROLLGATE_SIMULATED_RPS, default 2). */
  rps: number;
  /**
   * Requests/s per service the router's simulated users send through its routes while a route
   * gives canary or baseline a share (ROLLGATE_SIMULATED_USERS_RPS; default 20 with the embedded
   * metric source, which counts what the data plane forwards, and 0 with Prometheus).
   */
  usersPerSecond: number;
  /** Seed of the instances' and the simulated users' random draws (ROLLGATE_SIMULATED_SEED; default: the clock). */
  seed: number | undefined;
}

export function simulatedSettingsFrom(
  env: Readonly<Record<string, string | undefined>>,
  metricSource: string,
): SimulatedSettings {
  const number = (key: string, fallback: number, max: number) => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > max)
      throw new Error(`${key} must be a number in [0, ${max}], got '${raw}'`);
    return value;
  };
  const seed = env['ROLLGATE_SIMULATED_SEED'];
  return {
    rps: number('ROLLGATE_SIMULATED_RPS', 2, 100_000),
    usersPerSecond: number(
      'ROLLGATE_SIMULATED_USERS_RPS',
      metricSource === 'embedded' ? 20 : 0,
      100_000,
    ),
    seed:
      seed === undefined || seed === ''
        ? undefined
        : number('ROLLGATE_SIMULATED_SEED', 0, Number.MAX_SAFE_INTEGER),
  };
}
