// `npm run docs:events`: writes docs/asyncapi.yaml from the event catalog.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document } from 'yaml';
import { buildAsyncApi } from '../src/asyncapi';
import { eventCatalog } from '../src/registry';

const TARGET = join(__dirname, '..', '..', '..', 'docs', 'asyncapi.yaml');

// Shared schema objects (e.g. the artifact) are written out in full, not as YAML aliases.
const document = new Document(buildAsyncApi(eventCatalog), { aliasDuplicateObjects: false });
document.commentBefore = ' Generated from libs/contracts by `npm run docs:events`. Do not edit.';
writeFileSync(TARGET, document.toString({ lineWidth: 100 }));
console.log(`Wrote ${TARGET}`);
