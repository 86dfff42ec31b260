/** What the runner does with a run's interval in progress on a tick. */
export type IntervalAction = 'wait' | 'read' | 'reopen';

/**
 * An interval that began before this process started straddles a restart of the analysis: it is
 * reopened (a new cursor, nothing scored), whatever its age. Otherwise it is read once it is
 * `intervalSeconds` old. Intervals are timed from their own start, not from the run's: after a
 * restart the runner does not catch up on missed intervals with a burst of near-empty ones.
 */
export function intervalAction(args: {
  intervalStartedAt: number;
  bootedAt: number;
  now: number;
  intervalSeconds: number;
}): IntervalAction {
  if (args.intervalStartedAt < args.bootedAt) return 'reopen';
  return args.now >= args.intervalStartedAt + args.intervalSeconds * 1000 ? 'read' : 'wait';
}
