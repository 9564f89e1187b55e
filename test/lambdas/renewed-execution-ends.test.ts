import { CodePipelineClient, PutJobFailureResultCommand } from '@aws-sdk/client-codepipeline';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { invoke } from '../fixtures/lambda';

// The handler reads the pool table's name at cold start: set before it is loaded.
process.env.POOL_TABLE_NAME = 'PoolTable';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/execution-events/handler') as typeof import('../../lambdas/execution-events/handler');

const NAME = 'job-1-0123456789ab';
const EXECUTION = `arn:aws:states:eu-west-1:123456789012:execution:Ec2BuildAction-BuildJob:${NAME}`;
const exited = (id: number, name: string, output: unknown): HistoryEvent => ({ id, timestamp: new Date(0), type: 'TaskStateExited', stateExitedEventDetails: { name, output: JSON.stringify(output) } });
const event = { detail: { executionArn: EXECUTION, name: NAME, status: 'TIMED_OUT', input: JSON.stringify({ jobId: 'job-1' }), error: 'States.Timeout', cause: 'Execution timed out' } };

describe('execution-events: an execution that renewed its job ends outside its own Catch', () => {
  const sfn = mockClient(SFNClient);
  const codepipeline = mockClient(CodePipelineClient);
  const ec2 = mockClient(EC2Client);
  beforeEach(() => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    codepipeline.on(PutJobFailureResultCommand).resolves({});
  });
  afterEach(() => {
    sfn.reset();
    codepipeline.reset();
    ec2.reset();
  });

  it('fails the newest job it acknowledged, not the first (which already succeeded with a continuation token)', async () => {
    // Newest first: the third job acknowledged; a later handover whose acknowledgement was refused does not count
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        exited(40, 'Acknowledge Continuation Job', { jobId: 'job-3', continuation: { jobId: 'job-4' }, ack: { status: 'NotOurs' } }),
        exited(30, 'Acknowledge Continuation Job', { jobId: 'job-2', continuation: { jobId: 'job-3' }, ack: { status: 'InProgress' } }),
        exited(20, 'Acknowledge Continuation Job', { jobId: 'job-1', continuation: { jobId: 'job-2' }, ack: { status: 'InProgress' } }),
        exited(3, 'Acknowledge Job', { jobId: 'job-1', ack: { status: 'InProgress' } }),
      ],
    });
    expect(await invoke(handler, event, 'execution-events')).toMatchObject({ reported: 'reported' });
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: EXECUTION, reverseOrder: true });
    expect(codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input.jobId)).toEqual(['job-3']);
  });

  it('fails the newest job it acknowledged while waiting in its fleet\'s line ("Acknowledge Queued Continuation Job")', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        exited(30, 'Acknowledge Queued Continuation Job', { jobId: 'job-2', continuation: { jobId: 'job-3' }, ack: { status: 'InProgress' } }),
        exited(20, 'Acknowledge Queued Continuation Job', { jobId: 'job-1', continuation: { jobId: 'job-2' }, ack: { status: 'InProgress' } }),
        exited(3, 'Acknowledge Job', { jobId: 'job-1', ack: { status: 'InProgress' } }),
      ],
    });
    await invoke(handler, event, 'execution-events');
    expect(codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input.jobId)).toEqual(['job-3']);
  });

  it('fails its first job when it never renewed', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [exited(3, 'Acknowledge Job', { ack: { status: 'InProgress' } })] });
    await invoke(handler, event, 'execution-events');
    expect(codepipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, { jobId: 'job-1' });
  });
});
