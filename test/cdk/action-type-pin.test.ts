import { App } from 'aws-cdk-lib';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActionTypeChangedError, pinFile, PINS_DIR, type ActionTypePinOptions } from '../../lib/action-type-snapshot';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';

const v1 = { owner: 'Custom' as const, category: 'Build', provider: 'EC2-Build', version: '1' };
/** The version today's definition is pinned as (the provider's default), and the next one. */
const v2 = { ...v1, version: '2' };
const current = { ...v1, version: '3' };
const next = { ...v1, version: '4' };
type Pin = { definition: { configurationProperties: { description: string }[]; settings: Record<string, string> } };

function construct(actionType = current, actionTypePin?: ActionTypePinOptions, env?: { account: string; region: string }) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Ec2BuildActionStack(app, 'Ec2BuildAction', { category: actionType.category, providerName: actionType.provider, version: actionType.version, actionTypePin, env });
}

/** A pins folder holding the current version's committed pin, changed by `edit`. */
function pinsWith(edit: (pin: Pin) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pins-'));
  const pin = JSON.parse(fs.readFileSync(pinFile(current), 'utf8')) as Pin;
  edit(pin);
  fs.writeFileSync(pinFile(current, dir), JSON.stringify(pin));
  return dir;
}

describe('the pinned action type definition', () => {
  it('holds version 3 to its committed pin, which today\'s definition matches (a fresh clone synthesizes), and keeps the pins of versions 1 and 2', () => {
    expect(fs.existsSync(pinFile(current, PINS_DIR))).toBe(true);
    expect(fs.existsSync(pinFile(v1, PINS_DIR))).toBe(true);
    expect(fs.existsSync(pinFile(v2, PINS_DIR))).toBe(true);
    expect(() => construct()).not.toThrow();
    // Today's definition is neither version 1's (no Fleet) nor version 2's (no EnvironmentVariables, one artifact each
    // way): those can only be kept from their pins.
    expect(() => construct(v1)).toThrow(/version 1 differs from its pinned definition/);
    expect(() => construct(v2)).toThrow(/version 2 differs from its pinned definition in \S+ \(changed: inputArtifactDetails\.maximumCount, outputArtifactDetails\.maximumCount, configurationProperties\[7\]/);
  });

  it('compares equal in any Region and account', () => {
    expect(() => construct(current, {}, { account: '210987654321', region: 'ap-southeast-2' })).not.toThrow();
  });

  it.each([
    ['a property description', (pin: Pin) => void (pin.definition.configurationProperties[0].description = 'AMI to build on.'), /configurationProperties\[0\]\.description/],
    ['an added property', (pin: Pin) => void pin.definition.configurationProperties.pop(), /configurationProperties\[9\]/],
    ['a URL template', (pin: Pin) => void (pin.definition.settings.executionUrlTemplate = 'https://example.com/{ExternalExecutionId}'), /settings\.executionUrlTemplate/],
  ])('refuses %s changed under the same version, saying to deploy a new version', (_, edit, changed) => {
    const directory = pinsWith(edit);
    const attempt = () => construct(current, { directory });
    expect(attempt).toThrow(ActionTypeChangedError);
    expect(attempt).toThrow(changed);
    expect(attempt).toThrow(/Custom\/Build\/EC2-Build version 3 differs from its pinned definition/);
    expect(attempt).toThrow(/-c ec2-build-action:version=4 -c ec2-build-action:previousVersions=3 for the app/);
  });

  it('pins a new version on its first synth, then holds it to that pin', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pins-'));
    construct(next, { directory, writeMissing: true });
    const written = JSON.parse(fs.readFileSync(pinFile(next, directory), 'utf8'));
    expect(written.definition.version).toBe('4');
    expect(written.definition.configurationProperties).toEqual((JSON.parse(fs.readFileSync(pinFile(current), 'utf8')) as Pin).definition.configurationProperties);
    expect(() => construct(next, { directory, writeMissing: true })).not.toThrow();
    written.definition.configurationProperties[1].description = 'changed';
    fs.writeFileSync(pinFile(next, directory), JSON.stringify(written));
    expect(() => construct(next, { directory })).toThrow(/version 4 differs/);
  });

  it('gives a new version a definition that depends on the Region alone, so a deleted version can be registered again', () => {
    // GIVEN a version with no pin yet
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pins-'));
    // WHEN its first synth pins it
    construct(next, { directory, writeMissing: true });
    const written = JSON.parse(fs.readFileSync(pinFile(next, directory), 'utf8'));
    // THEN its definition names no resource of the deployment (only the Region), unlike version 1's document link
    const intrinsics = (text: string) => [...text.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]);
    expect([...new Set(intrinsics(JSON.stringify(written.definition)))]).toEqual(['AWS::Region']);
    expect(intrinsics(JSON.stringify((JSON.parse(fs.readFileSync(pinFile(v1), 'utf8')) as Pin).definition))).toContain('BuildDocument');
    // AND its links name no property: a URL may name only required, non-secret ones, and since Fleet every
    // property but Command is optional (Command is no URL part), so the entity link is the Region's instances
    const names = [...JSON.stringify(written.definition.settings).matchAll(/\{Config:([A-Za-z]+)\}/g)].map((m) => m[1]);
    expect(names).toEqual([]);
    expect(written.definition.settings.entityUrlTemplate).toBe('https://${AWS::Region}.console.aws.amazon.com/ec2/home?region=${AWS::Region}#Instances:instanceState=running');
    expect(written.definition.configurationProperties.filter((p: { required: boolean }) => p.required).map((p: { name: string }) => p.name)).toEqual(['Command']);
  });

  it('accepts a version with no pin without writing one unless asked', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pins-'));
    expect(() => construct(next, { directory })).not.toThrow();
    expect(fs.readdirSync(directory)).toEqual([]);
  });
});
