import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { App } from 'aws-cdk-lib';
import { readSettings } from '../lib/context';
import cdkJson from '../cdk.json';
import { parseProperties } from '../lambdas/poller/job';

/** CloudFormation's short-form tags (!Ref, !Sub, !GetAtt) parsed as plain values. */
const cfnTags = ['!Ref', '!Sub', '!GetAtt'].map((tag) => ({ tag, resolve: (v: unknown) => ({ [tag]: v }) }));

describe('examples/pipeline.yaml', () => {
  const template = parseDocument(fs.readFileSync(path.join(__dirname, '../examples/pipeline.yaml'), 'utf8'), { customTags: cfnTags as never }).toJS();
  const actions = template.Resources.Pipeline.Properties.Stages.flatMap((s: { Actions: unknown[] }) => s.Actions);
  const ours = actions.filter((a: { ActionTypeId: { Owner: string } }) => a.ActionTypeId.Owner === 'Custom');

  it('references exactly the action type that the stack registers with cdk.json', () => {
    const settings = readSettings(new App({ context: cdkJson.context }).node);
    expect(ours).toHaveLength(1);
    expect(ours[0].ActionTypeId).toEqual({ Category: settings.category, Owner: 'Custom', Provider: settings.providerName, Version: settings.version });
  });

  it('sets properties the poller accepts', () => {
    const config = { ...ours[0].Configuration, ImageId: 'ami-0a1b2c3d4e5f67890', InstanceType: template.Parameters.InstanceType.Default };
    expect(() => parseProperties(config)).not.toThrow();
  });
});
