import { AcknowledgeJobCommand, CodePipelineClient, InvalidNonceException, JobNotFoundException, PollForJobsCommand, PutJobFailureResultCommand } from '@aws-sdk/client-codepipeline';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { acknowledgeJob } from '../../lambdas/shared/codepipeline';
import { polledJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';

Object.assign(process.env, { STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Build', ACTION_CATEGORY: 'Build', ACTION_PROVIDER: 'EC2-Build', ACTION_VERSION: '1', JOB_RENEWAL_SECONDS: '2700' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler: poller } = require('../../lambdas/poller/handler') as typeof import('../../lambdas/poller/handler');

/**
 * A stale nonce (InvalidNonceException from AcknowledgeJob: CodePipeline offered the job again, with
 * a new nonce) is handled where CodePipeline is called, shared/codepipeline.ts, as "not ours"; its
 * callers decide what that means without knowing the SDK's exception.
 */
describe('a stale nonce', () => {
  const codepipeline = mockClient(CodePipelineClient);
  const sfn = mockClient(SFNClient);
  afterEach(() => {
    codepipeline.reset();
    sfn.reset();
  });

  it('is an acknowledgement that the job is not ours, not an exception', async () => {
    codepipeline.on(AcknowledgeJobCommand).rejects(new InvalidNonceException({ message: 'stale', $metadata: {} }));
    await expect(acknowledgeJob('j', 'old')).resolves.toEqual({ owned: false });
  });

  it('leaves other errors to the caller', async () => {
    codepipeline.on(AcknowledgeJobCommand).rejects(new JobNotFoundException({ message: 'gone', $metadata: {} }));
    await expect(acknowledgeJob('j', 'n')).rejects.toThrow(JobNotFoundException);
  });

  it('is an owned job with its status when CodePipeline accepts the nonce', async () => {
    codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
    await expect(acknowledgeJob('j', 'n')).resolves.toEqual({ owned: true, status: 'InProgress' });
  });

  it('keeps the poller from failing a continuation job that a newer offer owns', async () => {
    // GIVEN a continuation job whose execution has ended, and whose nonce went stale before the poller acknowledged it
    const job = { ...polledJob(), id: 'job-2', nonce: 'nonce-2' };
    job.data = { ...job.data, continuationToken: 'job-1-abcdef012345' };
    codepipeline.on(PollForJobsCommand).resolves({ jobs: [job] });
    codepipeline.on(AcknowledgeJobCommand).rejects(new InvalidNonceException({ message: 'stale', $metadata: {} }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    // WHEN the poller handles it
    const counts = await invoke(poller, { source: 'aws.events' }, 'poller');
    // THEN it fails nothing: the newer offer's worker owns the job
    expect(counts['not-started']).toBe(1);
    expect(codepipeline).not.toHaveReceivedCommand(PutJobFailureResultCommand);
  });
});
