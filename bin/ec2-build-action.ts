#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSettings } from '../lib/context';
import { Ec2BuildActionStack } from '../lib/ec2-build-action-stack';

const app = new App();
const settings = readSettings(app.node);
new Ec2BuildActionStack(app, settings.stackName, {
  ...settings,
  // The first synth of a new version pins its definition in action-types/ (commit it); a changed definition under a
  // pinned version fails synth (lib/action-type-snapshot.ts).
  actionTypePin: { writeMissing: true },
  description: `ec2-build-action: CodePipeline custom action ${settings.actionType.category}/${settings.actionType.provider}/${settings.actionType.version} that runs builds on EC2`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
