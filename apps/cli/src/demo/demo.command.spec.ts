import { Command } from 'commander';
import { parseConfig } from '@rollgate/platform';
import { buildProgram, createContext } from '../program';
import { demoCommand } from './demo.command';

/** Runs `rollgate demo …` in process with files served from memory. */
async function demo(argv: string[], files: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  let exitCode = -1;
  const context = createContext({
    config: parseConfig({}),
    output: { out: (text) => (stdout += text), err: (text) => (stderr += text) },
  });
  const readText = async (path: string) => {
    if (!(path in files)) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return files[path]!;
  };
  const program = new Command('rollgate')
    .exitOverride()
    .addCommand(demoCommand(context, (code) => (exitCode = code), readText));
  await program.parseAsync(['demo', ...argv], { from: 'user' });
  return { exitCode, stdout, stderr };
}

describe('rollgate demo with a bad scenario', () => {
  it('is a command of the rollgate program', () => {
    const context = createContext({
      config: parseConfig({}),
      output: { out: () => undefined, err: () => undefined },
    });
    expect(buildProgram(context, () => undefined).commands.map((c) => c.name())).toContain('demo');
  });

  it('exits 2 naming each bad field, before it starts anything', async () => {
    const scenario = {
      instances: 2,
      rps: 150,
      strategy: 'canary',
      versions: { v1: { errorRate: 0.01 }, v2: { errorRate: 1.5 } },
      releases: ['v2', 'v9'],
    };
    const result = await demo(['--scenario', 's.json'], { 's.json': JSON.stringify(scenario) });
    expect(result).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: [
        'error: s.json: versions.v2.errorRate: must be between 0 and 1 (got 1.5)',
        "  s.json: releases[1]: 'v9' is not one of versions (v1, v2)",
        '',
      ].join('\n'),
    });
  });

  it('exits 2 for a file it cannot read or that is not JSON', async () => {
    expect(await demo(['--scenario', 'gone.json'], {})).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: 'error: gone.json: cannot read the file (ENOENT)\n',
    });
    const broken = await demo(['--scenario', 'b.json', '--json'], { 'b.json': '{"rps": ' });
    expect(broken.exitCode).toBe(2);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/^error: b\.json: not valid JSON: /);
  });
});
