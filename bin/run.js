#!/usr/bin/env node
// Runs a TypeScript entry point of this workspace without a build step:
// SWC compiles on the fly (with decorator metadata for Nest) and tsconfig paths resolve @rollgate/*.
'use strict';
const path = require('node:path');
process.env.SWC_NODE_PROJECT =
  process.env.SWC_NODE_PROJECT || path.join(__dirname, '..', 'tsconfig.base.json');
require('@swc-node/register');
const entry = process.argv[2];
if (!entry) {
  console.error('usage: node bin/run.js <file.ts> [args...]');
  process.exit(2);
}
process.argv.splice(1, 2, path.resolve(entry));
require(path.resolve(entry));
