import * as fs from 'node:fs';
import * as path from 'node:path';
import { currentTemplate } from '../../local/synthesized';
import { normalizeTemplate } from './app-template';

/**
 * The app (`cdk synth`, as bin/ writes it) deploys exactly what test/cdk/golden/ holds. A change to what the stack
 * deploys must be deliberate: regenerate the golden file with `UPDATE_APP_TEMPLATE=1 npx jest test/cdk/app-template`
 * and let the diff show it in review.
 */
const GOLDEN = path.join(__dirname, 'golden', 'Ec2BuildAction.template.json');

describe('the app template', () => {
  it('deploys what the golden template holds (asset hashes and construct paths aside)', async () => {
    // GIVEN the app synthesized as `cdk synth` does
    const template = JSON.parse(fs.readFileSync(await currentTemplate(), 'utf8')) as Record<string, unknown>;
    // WHEN it is normalized
    const normalized = normalizeTemplate(template);
    if (process.env.UPDATE_APP_TEMPLATE === '1') fs.writeFileSync(GOLDEN, `${JSON.stringify(normalized, null, 1)}\n`);
    // THEN it equals the golden template
    expect(normalized).toEqual(JSON.parse(fs.readFileSync(GOLDEN, 'utf8')));
  });

  it('normalizes only what changes with every build', () => {
    // GIVEN two templates that differ in an asset hash and a construct path, and a third that differs in a property
    const base = (key: string, memory: number) => ({
      Resources: {
        Fn: { Type: 'AWS::Lambda::Function', Properties: { Code: { S3Key: `${key.repeat(64)}.zip` }, MemorySize: memory }, Metadata: { 'aws:cdk:path': `S/${key}`, 'aws:asset:path': `asset.${key}` } },
        CDKMetadata: { Type: 'AWS::CDK::Metadata', Properties: { Analytics: key } },
      },
    });
    // THEN the first two normalize alike and the third does not
    expect(normalizeTemplate(base('a', 256))).toEqual(normalizeTemplate(base('b', 256)));
    expect(normalizeTemplate(base('a', 256))).not.toEqual(normalizeTemplate(base('a', 512)));
  });
});
