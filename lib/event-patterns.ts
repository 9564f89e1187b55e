import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { RUNNING_COMMAND_STATUSES, type ActionTypeRef } from '../lambdas/shared/types';

/**
 * The EventBridge patterns of the stack's rules. Plain data, so the local runner routes its
 * simulated events with the very patterns the stack deploys.
 */

/** STARTED events of this action type only. The version may arrive as a string or a number. */
export function startedEventPattern(actionType: ActionTypeRef): EventPattern {
  const version: unknown[] = [actionType.version];
  if (/^\d+$/.test(actionType.version)) version.push(Number(actionType.version));
  return {
    source: ['aws.codepipeline'],
    detailType: ['CodePipeline Action Execution State Change'],
    detail: {
      state: ['STARTED'],
      type: { owner: ['Custom'], category: [actionType.category], provider: [actionType.provider], version },
    },
  };
}

/** Invocations of the build document that finished. */
export function commandFinishedPattern(documentName: string): EventPattern {
  return {
    source: ['aws.ssm'],
    detailType: ['EC2 Command Invocation Status-change Notification'],
    detail: { 'document-name': [documentName], status: [{ 'anything-but': RUNNING_COMMAND_STATUSES }] as unknown[] },
  };
}
