import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleLambdas } from '../../lib/bundling';

/**
 * What `npm pack` ships (run by the prepack script): the construct library compiled to dist/ with its declarations,
 * the definitions it loads (the state machine, the SSM document, the action type pins) beside it, and each function
 * already bundled in dist/bundles/, so a user's synth runs neither esbuild nor Docker (lib/bundling.ts looks there first).
 */
const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const DEFINITIONS = ['state-machines', 'ssm-documents', 'action-types'];

fs.rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: ['ignore', 2, 2] });
for (const dir of DEFINITIONS) fs.cpSync(path.join(ROOT, dir), path.join(DIST, dir), { recursive: true });
bundleLambdas(path.join(DIST, 'bundles'));
process.stderr.write(`built ${path.relative(ROOT, DIST)}/: lib, definitions (${DEFINITIONS.join(', ')}) and bundles\n`);
