import { AcknowledgeJobCommand, CodePipelineClient, InvalidNonceException, JobNotFoundException } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { invoke } from '../fixtures/lambda';
import { handler } from '../../lambdas/acknowledge/handler';

describe('acknowledge job', () => {
  const codepipeline = mockClient(CodePipelineClient);
  afterEach(() => codepipeline.reset());

  it('acknowledges with the nonce and returns the job status', async () => {
    codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
    await expect(invoke(handler, { jobId: 'j', nonce: 'n' }, 'acknowledge')).resolves.toEqual({ status: 'InProgress', rejection: null });
    expect(codepipeline).toHaveReceivedCommandWith(AcknowledgeJobCommand, { jobId: 'j', nonce: 'n' });
    expect(codepipeline.commandCalls(AcknowledgeJobCommand)).toHaveLength(1);
  });

  it('says NotOurs when another worker acknowledged the job first', async () => {
    codepipeline.on(AcknowledgeJobCommand).rejects(new InvalidNonceException({ message: 'stale', $metadata: {} }));
    await expect(invoke(handler, { jobId: 'j', nonce: 'old' }, 'acknowledge')).resolves.toEqual({ status: 'NotOurs', rejection: null });
  });

  it('says the status of a job it owns that no longer waits (the execution ends without launching)', async () => {
    codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'TimedOut' });
    await expect(invoke(handler, { jobId: 'j', nonce: 'n' }, 'acknowledge')).resolves.toEqual({ status: 'TimedOut', rejection: null });
  });

  it('fails on other errors, for the state machine to retry', async () => {
    codepipeline.on(AcknowledgeJobCommand).rejects(new JobNotFoundException({ message: 'gone', $metadata: {} }));
    await expect(invoke(handler, { jobId: 'j', nonce: 'n' }, 'acknowledge')).rejects.toThrow('gone');
  });
});
