import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ts from 'typescript';

export interface Asset {
  type: string;
  body: string;
}

const JS = 'text/javascript; charset=utf-8';

/** The page every console URL answers: the browser app routes by path from here. */
export const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rollgate console</title>
<link rel="stylesheet" href="/assets/console.css">
<script type="module" src="/assets/app.mjs"></script>
</head>
<body>
<div id="app"><main><h1>Rollgate console</h1><p>Loading…</p></main></div>
</body>
</html>
`;

/**
 * Everything the browser loads, read once at start: the app and its styles as written, the view
 * model transpiled from TypeScript (the same file the unit tests and the server use), and preact
 * and htm from node_modules, with preact's bare import rewritten so no import map (inline script)
 * is needed under the content security policy. No build step: `npm ci` is all it takes.
 */
export function loadAssets(): Map<string, Asset> {
  const here = __dirname;
  // Each package's main file lives in its dist/ folder.
  const pkg = (name: string) => dirname(dirname(require.resolve(name)));
  const text = (path: string) => readFileSync(path, 'utf8');
  const viewModel = ts.transpileModule(text(join(here, 'view/view-model.ts')), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  return new Map<string, Asset>([
    ['/assets/app.mjs', { type: JS, body: text(join(here, 'public/app.mjs')) }],
    [
      '/assets/console.css',
      { type: 'text/css; charset=utf-8', body: text(join(here, 'public/console.css')) },
    ],
    ['/assets/view-model.mjs', { type: JS, body: viewModel }],
    ['/vendor/preact.mjs', { type: JS, body: text(join(pkg('preact'), 'dist/preact.mjs')) }],
    [
      '/vendor/hooks.mjs',
      {
        type: JS,
        body: text(join(pkg('preact'), 'hooks/dist/hooks.mjs')).replace(
          /from\s*"preact"/g,
          'from"/vendor/preact.mjs"',
        ),
      },
    ],
    ['/vendor/htm.mjs', { type: JS, body: text(join(pkg('htm'), 'dist/htm.mjs')) }],
  ]);
}
