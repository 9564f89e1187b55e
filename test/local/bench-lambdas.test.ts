import * as fs from 'node:fs';
import * as path from 'node:path';
import { STACK_ENV } from '../../local/bench/lambdas';

/**
 * `npm run bench` loads every function's bundle in a fresh process with the stack's configuration (its cold-load
 * phase); a loader refuses to start without a variable the stack sets. That phase once broke unseen when the stack
 * gave the functions a new variable (METRICS_STACK) the bench did not: this test holds the bench's environment to the
 * variables the synthesized stack sets on its functions (the golden template, kept equal to the synth by
 * test/cdk/app-template.test.ts).
 */
const GOLDEN = path.join(__dirname, '../cdk/golden/Ec2BuildAction.template.json');

it('gives every bundle the bench loads each variable the stack sets on its functions', () => {
  const template = JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as { Resources: Record<string, { Type: string; Properties: { Environment?: { Variables?: Record<string, unknown> } } }> };
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const variables = new Set(functions.flatMap((f) => Object.keys(f.Properties.Environment?.Variables ?? {})));
  expect(functions.length).toBeGreaterThan(10);
  expect(variables).toContain('METRICS_STACK');
  expect([...variables].filter((name) => !(name in STACK_ENV))).toEqual([]);
});
