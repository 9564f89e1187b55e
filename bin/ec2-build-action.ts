#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSettings } from '../lib/context';
import { Ec2BuildActionStack } from '../lib/ec2-build-action-stack';

// The app: the construct library's provider in one stack, configured by context keys (lib/context.ts).
const app = new App();
const { stackName, ...props } = readSettings(app.node);
new Ec2BuildActionStack(app, stackName, {
  ...props,
  // The first synth of a new version pins its definition in action-types/ (commit it); a changed definition under a
  // pinned version fails synth (lib/action-type-snapshot.ts).
  actionTypePin: { writeMissing: true },
  description: `ec2-build-action: CodePipeline custom action ${props.category}/${props.providerName}/${props.version} that runs builds on EC2`,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
