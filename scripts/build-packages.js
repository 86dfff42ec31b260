#!/usr/bin/env node
// npm run build:packages [contracts|flags-sdk]: builds the packages other tools install,
// @rollgate/contracts and @rollgate/flags-sdk (both by default), to CommonJS + .d.ts in
// libs/<package>/dist. `npm pack` in libs/<package> runs it first (prepack). The workspace itself
// never uses dist: it resolves src through tsconfig paths.
//
// The SDK ships its domain engine inside it: @rollgate/flags-domain is workspace-only (it also
// holds the flags service's aggregate), so its public engine is compiled into dist/flags-domain
// with tsc, and the SDK's imports of it are rewritten to that relative path. Plain tsc rather than
// a bundler: the output keeps one file per module with its declaration, and no extra tool is needed.
'use strict';
const { execFileSync } = require('node:child_process');
const { readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const TSC = require.resolve('typescript/bin/tsc');
const CONTRACTS = join(ROOT, 'libs/contracts');
const SDK = join(ROOT, 'libs/flags-sdk');
const DOMAIN_OUT = join(SDK, 'dist/flags-domain');

const tsc = (project) => execFileSync(process.execPath, [TSC, '-p', project], { stdio: 'inherit' });

/** Every .js and .d.ts file under `dir`. */
function outputs(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(js|d\.ts)$/.test(entry.name))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/** `require("@rollgate/flags-domain")` and `from "@rollgate/flags-domain"` point into dist/flags-domain. */
function rewriteDomainImports(file) {
  let target = relative(dirname(file), DOMAIN_OUT).split('\\').join('/');
  if (!target.startsWith('.')) target = `./${target}`;
  const source = readFileSync(file, 'utf8');
  const rewritten = source.replace(/(["'])@rollgate\/flags-domain\1/g, `$1${target}$1`);
  if (rewritten !== source) writeFileSync(file, rewritten);
}

const builds = {
  contracts: () => {
    rmSync(join(CONTRACTS, 'dist'), { recursive: true, force: true });
    tsc(join(CONTRACTS, 'tsconfig.build.json'));
    return join(CONTRACTS, 'dist');
  },
  'flags-sdk': () => {
    rmSync(join(SDK, 'dist'), { recursive: true, force: true });
    tsc(join(SDK, 'tsconfig.domain.json'));
    tsc(join(SDK, 'tsconfig.build.json'));
    for (const file of outputs(join(SDK, 'dist'))) {
      if (!file.startsWith(DOMAIN_OUT)) rewriteDomainImports(file);
    }
    return join(SDK, 'dist');
  },
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in builds));
if (unknown.length > 0) {
  console.error(
    `unknown package ${unknown.join(', ')}: expected ${Object.keys(builds).join(' or ')}`,
  );
  process.exit(2);
}
const built = (wanted.length > 0 ? wanted : Object.keys(builds)).map((name) => builds[name]());

// A workspace-only import left in a build would fail only on the installer's machine.
const leftovers = built
  .flatMap(outputs)
  .filter((file) => /(["'])@rollgate\//.test(readFileSync(file, 'utf8')));
if (leftovers.length > 0) {
  console.error(`workspace imports left in the build:\n${leftovers.join('\n')}`);
  process.exit(1);
}
console.error(`built ${built.map((dir) => relative(ROOT, dir)).join(' and ')}`);
