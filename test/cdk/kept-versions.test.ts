import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pinFile, PINS_DIR } from '../../lib/action-type-snapshot';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import type { Ec2BuildProviderProps } from '../../lib/provider-props';

/**
 * Moving the app to a new version while pipelines still use earlier ones (1 to 2, then to 3): the provider keeps registering version 1,
 * with its pinned definition and under its logical ID, so a stack update adds version 2 and never replaces version 1.
 */
/** Version 1's resource as the app deployed it before version 2 existed (from the golden template of that time). */
const VERSION_1 = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'ActionType-version-1.json'), 'utf8')) as { logicalId: string; resource: { Type: string; Properties: unknown } };
const v = (version: string) => ({ owner: 'Custom' as const, category: 'Build', provider: 'EC2-Build', version });

/** A pins folder holding the committed pins, so a test can write new ones. */
function pins(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pins-'));
  fs.cpSync(PINS_DIR, dir, { recursive: true });
  return dir;
}

function synth(props: Ec2BuildProviderProps): Template {
  return Template.fromStack(new Ec2BuildActionStack(new App(), 'Ec2BuildAction', props));
}

const actionTypes = (t: Template) => Object.entries(t.findResources('AWS::CodePipeline::CustomActionType')) as [string, { Properties: Record<string, unknown> }][];

describe('keeping an earlier version of the action type', () => {
  it('registers version 1 exactly as it was (same logical ID and properties) beside versions 2 and 3, each under the id its pin records', () => {
    // GIVEN the app on version 3 while keeping 1 and 2
    const directory = pins();
    const template = synth({ version: '3', previousVersions: ['1', '2'], actionTypePin: { directory, writeMissing: true } });
    // THEN version 1 is the golden template's resource, unchanged
    const [goldenId, golden] = [VERSION_1.logicalId, VERSION_1.resource];
    const types = Object.fromEntries(actionTypes(template).map(([id, r]) => [r.Properties.Version as string, { id, properties: r.Properties }]));
    expect(types['1']).toEqual({ id: goldenId, properties: golden.Properties });
    // AND versions 2 and 3 are resources of their own, whose pins record their construct ids
    for (const version of ['2', '3']) {
      expect(types[version].id).not.toBe(goldenId);
      expect(types[version].id).toMatch(new RegExp(`^ActionType${version}`));
      expect(JSON.parse(fs.readFileSync(pinFile(v(version), directory), 'utf8')).constructId).toBe(`ActionType${version}`);
    }
    // AND the poller serves all three: its permissions, its trigger and its configuration
    const pollStatement = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => (p.Properties.PolicyDocument.Statement as { Sid?: string; Resource: unknown }[]))
      .find((s) => s.Sid === 'PollThisActionType')!;
    expect(JSON.stringify(pollStatement.Resource)).toMatch(/actiontype:Custom\/Build\/EC2-Build\/1".*actiontype:Custom\/Build\/EC2-Build\/2".*actiontype:Custom\/Build\/EC2-Build\/3"/);
    const started = Object.values(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.EventPattern?.detail?.state?.[0] === 'STARTED')!;
    expect(started.Properties.EventPattern.detail.type.version).toEqual(['1', 1, '2', 2, '3', 3]);
    const poller = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.ACTION_VERSION)!;
    expect(poller.Properties.Environment.Variables.ACTION_VERSION).toBe('1,2,3');
  });

  it('keeps version 3 under the id its pin records once versions 1 and 2 are retired', () => {
    const directory = pins();
    synth({ version: '3', previousVersions: ['1', '2'], actionTypePin: { directory, writeMissing: true } });
    const [[id]] = actionTypes(synth({ version: '3', actionTypePin: { directory } }));
    expect(id).toMatch(/^ActionType3/);
  });

  it('names the kept versions in the fix for a changed definition, so following it keeps them all', () => {
    const directory = pins();
    synth({ version: '3', previousVersions: ['1', '2'], actionTypePin: { directory, writeMissing: true } });
    const file = pinFile(v('3'), directory);
    const pinned = JSON.parse(fs.readFileSync(file, 'utf8'));
    pinned.definition.configurationProperties[0].description = 'changed';
    fs.writeFileSync(file, JSON.stringify(pinned));
    expect(() => synth({ version: '3', previousVersions: ['1', '2'], actionTypePin: { directory } })).toThrow(/-c ec2-build-action:version=4 -c ec2-build-action:previousVersions=1,2,3 for the app/);
  });

  it('refuses a new version beside kept ones unless it is pinned now, and a pin written into node_modules', () => {
    const directory = pins();
    expect(() => synth({ version: '4', previousVersions: ['1', '2', '3'], actionTypePin: { directory } })).toThrow(/version 4 is registered beside kept versions, so it must be pinned: set actionTypePin: \{ directory: '<a folder you commit>', writeMissing: true \}/);
    const installed = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'app-')), 'node_modules', 'ec2-build-action', 'dist', 'action-types');
    fs.cpSync(PINS_DIR, installed, { recursive: true });
    expect(() => synth({ version: '4', previousVersions: ['3'], actionTypePin: { directory: installed, writeMissing: true } })).toThrow(/inside node_modules, where the next install deletes it/);
  });

  it('refuses to keep a version that has no pin, or the current version itself', () => {
    expect(() => synth({ version: '5', previousVersions: ['4'] })).toThrow(/previousVersions names version 4, which has no pin at .*Build-EC2-Build-4\.json/);
    expect(() => synth({ version: '2', previousVersions: ['2'] })).toThrow('Ec2BuildProvider: previousVersions must be a list of versions without repeats and without the current version 2, got ["2"]');
  });
});
