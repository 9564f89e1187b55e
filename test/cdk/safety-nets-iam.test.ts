import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readSettings } from '../../lib/context';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import { ACCOUNT, decide, PARTITION, REGION, resolve, rolePolicies } from './simulate-policies';

/** The safety nets' rights on the fleets, evaluated against the Service Authorization Reference. */

const FLEETS = { linux: { imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['c7i.large'], market: 'on-demand', hotPool: 1, stoppedPool: 0, maxConcurrent: 4, maxQueueMinutes: 10 } };
const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'ec2-build-action:fleets': JSON.stringify(FLEETS) } });
const stack = Template.fromStack(new Ec2BuildActionStack(app, 'Ec2BuildAction', { ...readSettings(app.node), stackName: undefined }));
const resources = stack.toJSON().Resources as Record<string, { Type: string; Properties?: { Environment?: { Variables?: Record<string, unknown> } } }>;
const [tableId] = Object.keys(stack.findResources('AWS::DynamoDB::Table'));
const table = String(resolve({ 'Fn::GetAtt': [tableId, 'Arn'] }, resources));
const otherTable = table.replace(/table\/.*/, 'table/other');
const sweeper = rolePolicies(stack, 'SafetyNetsSweeperRole');
const watchdog = rolePolicies(stack, 'SafetyNetsExecutionEventsRole');
const variables = (prefix: string) => Object.entries(resources).find(([id, r]) => id.startsWith(prefix) && r.Properties?.Environment)?.[1].Properties?.Environment?.Variables ?? {};

describe('the safety nets know fleets', () => {
  it('lets the sweeper read pool members, give back slots and take out line places on the pool table only, and resume waiting jobs', async () => {
    for (const action of ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
      expect(await decide(sweeper, action, table)).toBe('Allowed');
      expect(await decide(sweeper, action, otherTable)).toBe('ImplicitlyDenied');
    }
    expect(await decide(sweeper, 'dynamodb:PutItem', table)).toBe('ImplicitlyDenied');
    expect(await decide(sweeper, 'states:SendTaskSuccess', '*')).toBe('Allowed');
  });

  it('lets the watchdog give back the slot of an ended execution and resume the next waiting job', async () => {
    for (const action of ['dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
      expect(await decide(watchdog, action, table)).toBe('Allowed');
      expect(await decide(watchdog, action, otherTable)).toBe('ImplicitlyDenied');
    }
    expect(await decide(watchdog, 'states:SendTaskSuccess', '*')).toBe('Allowed');
    expect(await decide(watchdog, 'ec2:TerminateInstances', `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`, { 'aws:ResourceTag/ec2-build-action:stack': 'SomeoneElse' })).toBe('ImplicitlyDenied');
  });

  it('gives the sweeper the pool table and the fleets, and the watchdog the pool table', () => {
    expect(variables('SafetyNetsSweeper')).toMatchObject({ POOL_TABLE_NAME: { Ref: tableId }, FLEETS: expect.any(String) });
    expect(JSON.parse(String(variables('SafetyNetsSweeper').FLEETS))).toMatchObject({ linux: { maxConcurrent: 4, maxQueueMinutes: 10 } });
    expect(variables('SafetyNetsExecutionEvents')).toMatchObject({ POOL_TABLE_NAME: { Ref: tableId } });
  });
});
