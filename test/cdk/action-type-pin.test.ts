import { App } from 'aws-cdk-lib';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActionTypeChangedError, pinFile, PINS_DIR, type ActionTypePinOptions } from '../../lib/action-type-snapshot';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';

const v1 = { owner: 'Custom' as const, category: 'Build', provider: 'EC2-Build', version: '1' };
type Pin = { definition: { configurationProperties: { description: string }[]; settings: Record<string, string> } };

function construct(actionType = v1, actionTypePin?: ActionTypePinOptions, env?: { account: string; region: string }) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Ec2BuildActionStack(app, 'Ec2BuildAction', { category: actionType.category, providerName: actionType.provider, version: actionType.version, actionTypePin, env });
}

/** A pins folder holding version 1's committed pin, changed by `edit`. */
function pinsWith(edit: (pin: Pin) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pins-'));
  const pin = JSON.parse(fs.readFileSync(pinFile(v1), 'utf8')) as Pin;
  edit(pin);
  fs.writeFileSync(pinFile(v1, dir), JSON.stringify(pin));
  return dir;
}

describe('the pinned action type definition', () => {
  it('holds version 1 to its committed pin, which today\'s definition matches (a fresh clone synthesizes)', () => {
    expect(fs.existsSync(pinFile(v1, PINS_DIR))).toBe(true);
    expect(() => construct()).not.toThrow();
  });

  it('compares equal in any Region and account', () => {
    expect(() => construct(v1, {}, { account: '210987654321', region: 'ap-southeast-2' })).not.toThrow();
  });

  it.each([
    ['a property description', (pin: Pin) => void (pin.definition.configurationProperties[0].description = 'AMI to build on.'), /configurationProperties\[0\]\.description/],
    ['an added property', (pin: Pin) => void pin.definition.configurationProperties.pop(), /configurationProperties\[5\]/],
    ['a URL template', (pin: Pin) => void (pin.definition.settings.executionUrlTemplate = 'https://example.com/{ExternalExecutionId}'), /settings\.executionUrlTemplate/],
  ])('refuses %s changed under the same version, saying to deploy a new version', (_, edit, changed) => {
    const directory = pinsWith(edit);
    const attempt = () => construct(v1, { directory });
    expect(attempt).toThrow(ActionTypeChangedError);
    expect(attempt).toThrow(changed);
    expect(attempt).toThrow(/Custom\/Build\/EC2-Build version 1 differs from its pinned definition/);
    expect(attempt).toThrow(/-c ec2-build-action:version=2 -c ec2-build-action:previousVersions=1 for the app/);
  });

  it('pins a new version on its first synth, then holds it to that pin', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pins-'));
    const v2 = { ...v1, version: '2' };
    construct(v2, { directory, writeMissing: true });
    const written = JSON.parse(fs.readFileSync(pinFile(v2, directory), 'utf8'));
    expect(written.definition.version).toBe('2');
    expect(written.definition.configurationProperties).toEqual((JSON.parse(fs.readFileSync(pinFile(v1), 'utf8')) as Pin).definition.configurationProperties);
    expect(() => construct(v2, { directory, writeMissing: true })).not.toThrow();
    written.definition.configurationProperties[1].description = 'changed';
    fs.writeFileSync(pinFile(v2, directory), JSON.stringify(written));
    expect(() => construct(v2, { directory })).toThrow(/version 2 differs/);
  });

  it('gives a new version a definition that depends on the Region alone, so a deleted version can be registered again', () => {
    // GIVEN a version with no pin yet
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pins-'));
    const v2 = { ...v1, version: '2' };
    // WHEN its first synth pins it
    construct(v2, { directory, writeMissing: true });
    const written = JSON.parse(fs.readFileSync(pinFile(v2, directory), 'utf8'));
    // THEN its definition names no resource of the deployment (only the Region), unlike version 1's document link
    const intrinsics = (text: string) => [...text.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]);
    expect([...new Set(intrinsics(JSON.stringify(written.definition)))]).toEqual(['AWS::Region']);
    expect(intrinsics(JSON.stringify((JSON.parse(fs.readFileSync(pinFile(v1), 'utf8')) as Pin).definition))).toContain('BuildDocument');
    // AND each {Config:Name} in its links is a required, non-secret property, as CloudFormation requires
    const names = [...JSON.stringify(written.definition.settings).matchAll(/\{Config:([A-Za-z]+)\}/g)].map((m) => m[1]);
    expect(names).toEqual(['ImageId']);
    for (const name of names) {
      expect(written.definition.configurationProperties.find((p: { name: string }) => p.name === name)).toMatchObject({ required: true, secret: false });
    }
  });

  it('accepts a version with no pin without writing one unless asked', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pins-'));
    expect(() => construct({ ...v1, version: '3' }, { directory })).not.toThrow();
    expect(fs.readdirSync(directory)).toEqual([]);
  });
});
