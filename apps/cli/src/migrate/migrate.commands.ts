import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { lintPlan, lintSql, parsePlanText, type LintFinding } from '@rollgate/migrations-domain';
import type { CliContext } from '../context';
import { ApiError, callApi } from '../releases/api-client';

type ExitCode = (code: number) => void;

export interface MigrationStatusView {
  id: string;
  service: string;
  database: string;
  name: string | null;
  status: string;
  phase: string | null;
  versionSchema: string | null;
  versions: { old: string[]; new: string[] } | null;
  backfill: { table: string; rowsDone: number; rowsTotal: number }[];
  lockRetries: number;
  lastError: string | null;
  contractRefusal: string | null;
}

const ENDED = ['migrated', 'completed', 'rolled-back', 'failed'];
const WATCH_INTERVAL_MS = 500;

/** `[██████░░░░]  60%  1,200/2,000 rows` */
export function progressBar(done: number, total: number, width = 30): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * width);
  const percent = `${Math.floor(share * 100)}%`.padStart(4);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${percent}  ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows`;
}

export function formatMigration(m: MigrationStatusView): string {
  const lines = [
    `migration ${m.id}  ${m.name ?? ''}`,
    `service   ${m.service}   database ${m.database}`,
    `status    ${m.status}${m.phase ? ` (phase ${m.phase})` : ''}`,
  ];
  if (m.versions)
    lines.push(`versions  old ${m.versions.old.join(', ')} → new ${m.versions.new.join(', ')}`);
  if (m.versionSchema && ['migrated', 'contracting', 'completed'].includes(m.status))
    lines.push(`new version connects with: SET search_path TO ${m.versionSchema}`);
  for (const b of m.backfill)
    lines.push(`backfill  ${b.table.padEnd(16)} ${progressBar(b.rowsDone, b.rowsTotal)}`);
  if (m.lockRetries > 0) lines.push(`lock timeouts retried: ${m.lockRetries}`);
  if (m.contractRefusal) lines.push(`contract refused: ${m.contractRefusal}`);
  if (m.lastError) lines.push(`error     ${m.lastError}`);
  return `${lines.join('\n')}\n`;
}

function formatFindings(findings: LintFinding[]): string {
  return findings
    .map(
      (f) =>
        `${f.severity.padEnd(7)} ${f.rule}  ${f.where}\n        ${f.message}\n        fix: ${f.fix}`,
    )
    .join('\n');
}

/** API errors as "error (409): message" plus one line per named field. */
function describe(error: ApiError): string {
  const lines = [`error (${error.status || 'network'}): ${error.message}`];
  for (const detail of error.details) {
    const d = detail as { field?: string; problem?: string; id?: string; reason?: string };
    if (d.field) lines.push(`  ${d.field}: ${d.problem ?? ''}`);
    else if (d.id) lines.push(`  ${d.id}: ${d.reason ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `rollgate migrate plan|start|status|complete|rollback|lint` against the migrations service. */
export function migrateCommand(context: CliContext, setExitCode: ExitCode): Command {
  const url = () => context.config.serviceUrls.migrations;
  const guarded = async (run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      context.output.err(describe(error));
      setExitCode(1);
    }
  };
  const get = (id: string) =>
    callApi<MigrationStatusView>(
      url(),
      'GET',
      `/migrations/${encodeURIComponent(id)}`,
      context.token,
    );
  const post = (path: string, body: unknown = {}) =>
    callApi<{ migrationId: string; eventIds: string[] }>(url(), 'POST', path, context.token, body);

  /** Prints the status each time it changes until the running phase ends; exit 1 if it failed. */
  const watch = async (id: string) => {
    let shown = '';
    for (;;) {
      const m = await get(id);
      const text = formatMigration(m);
      if (text !== shown) context.output.out(`${shown ? '\n' : ''}${text}`);
      shown = text;
      if (ENDED.includes(m.status)) {
        if (m.status === 'failed') setExitCode(1);
        return;
      }
      await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
    }
  };

  const migrate = new Command('migrate').description(
    'Schema migrations: expand → migrate → contract on PostgreSQL, contract gated on the live fleet',
  );

  migrate
    .command('plan')
    .description(
      'Record a plan (JSON or YAML) for a target database; invalid plans are refused with the field named',
    )
    .argument('<file>', 'plan file')
    .requiredOption('-d, --database <name>', 'target database on the service PostgreSQL server')
    .action((file: string, opts: { database: string }) =>
      guarded(async () => {
        const text = readFileSync(file, 'utf8');
        const { migrationId } = await post('/migrations', { database: opts.database, plan: text });
        context.output.out(
          `planned migration ${migrationId}\nnext: rollgate migrate start ${migrationId}\n`,
        );
      }),
    );

  migrate
    .command('start')
    .description(
      'Expand, then migrate (dual-write triggers, backfill, validation, version schema); resumes a stopped one',
    )
    .argument('<id>', 'migration id')
    .option('-w, --watch', 'follow the backfill until the phase ends')
    .action((id: string, opts: { watch?: boolean }) =>
      guarded(async () => {
        await post(`/migrations/${encodeURIComponent(id)}/start`);
        context.output.out(`started migration ${id}\n`);
        if (opts.watch) await watch(id);
      }),
    );

  migrate
    .command('status')
    .description('Phase, backfill progress bar, lock retries, contract refusals')
    .argument('<id>', 'migration id')
    .option('-w, --watch', 'refresh until the running phase ends')
    .action((id: string, opts: { watch?: boolean }) =>
      guarded(async () => {
        if (opts.watch) await watch(id);
        else context.output.out(formatMigration(await get(id)));
      }),
    );

  migrate
    .command('complete')
    .description(
      'Contract (drop the old shape); refused while a live instance runs a version that needs it',
    )
    .argument('<id>', 'migration id')
    .action((id: string) =>
      guarded(async () => {
        await post(`/migrations/${encodeURIComponent(id)}/complete`);
        context.output.out(formatMigration(await get(id)));
      }),
    );

  migrate
    .command('rollback')
    .description('Undo expand and migrate (any phase before contract)')
    .argument('<id>', 'migration id')
    .action((id: string) =>
      guarded(async () => {
        await post(`/migrations/${encodeURIComponent(id)}/rollback`);
        context.output.out(formatMigration(await get(id)));
      }),
    );

  migrate
    .command('lint')
    .description(
      'Check a plan (.json/.yaml) or raw SQL (.sql) for unsafe operations, offline; exit 1 on errors',
    )
    .argument('<file>', 'plan or SQL file')
    .option('--live <versions>', 'application versions live now, comma-separated')
    .action((file: string, opts: { live?: string }) => {
      const text = readFileSync(file, 'utf8');
      const liveVersions = opts.live ? opts.live.split(',').map((v) => v.trim()) : [];
      let findings: LintFinding[];
      if (/\.sql$/i.test(file)) findings = lintSql(text, { liveVersions });
      else {
        const parsed = parsePlanText(text);
        if (!parsed.ok) {
          context.output.err(
            `${parsed.problems.map((p) => `error   ${p.field}: ${p.message}`).join('\n')}\n`,
          );
          setExitCode(1);
          return;
        }
        findings = lintPlan(parsed.plan, { liveVersions });
      }
      if (findings.length === 0) context.output.out(`${file}: no unsafe operations found\n`);
      else context.output.out(`${formatFindings(findings)}\n`);
      if (findings.some((f) => f.severity === 'error')) setExitCode(1);
    });

  return migrate;
}
