import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { runJob } from '../../local/job';
import { doctoredTemplate, statementWithSid } from './doctored-template';

/**
 * The first defect an AWS account would have shown: the poller allowed PollForJobs on
 * `actiontype/Custom/...` where the action type's ARN has a colon after `actiontype`. With IAM
 * enforced, the local cloud refuses every poll, as AWS would, and the run says so in bounded time.
 */
let cloud: LocalCloud;

beforeAll(async () => {
  const template = await doctoredTemplate((t) => {
    const poll = statementWithSid(t, 'PollThisActionType');
    poll.Resource = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':codepipeline:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':actiontype/Custom/Build/EC2-Build/1']] };
  });
  cloud = await LocalCloud.start(undefined, { template });
});
afterAll(async () => {
  await cloud.stop();
});

it('a poller whose policy names the action type with "actiontype/" never gets a job, and the run says why', async () => {
  // WHEN a job is queued and its STARTED event delivered
  const summary = await runJob(cloud, { source: path.join(__dirname, '../../examples/hello'), command: 'bash build.sh' });
  // THEN nothing started, nothing launched, nothing reported, and the reason is the refused poll
  expect(summary).toMatchObject({ status: 'Failed', jobResults: 0, instancesLaunched: 0, failureType: null });
  expect(summary.failureMessage).toMatch(/never picked up/);
  expect(summary.failureMessage).toContain('was refused codepipeline:PollForJobs on arn:aws:codepipeline:us-east-1:000000000000:actiontype:Custom/Build/EC2-Build/1');
  expect(summary.durationMs).toBeLessThan(cloud.pickupBoundMs + 10_000);
});
