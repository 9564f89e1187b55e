import type { LocalCloud } from './cloud';
import type { CommandFault } from './services/ssm';
import type { Chaos } from './services/chaos';

/** How the local cloud applies each job's installed faults (local/faults.ts) to the services. */

/** One Chaos that hands each call to the hooks of the job it concerns. */
export function chaosDispatcher(jobChaos: ReadonlyMap<string, Chaos>): Chaos {
  const of = (jobId: string) => jobChaos.get(jobId);
  return {
    runInstances: (j, subnet, type, market) => of(j)?.runInstances?.(j, subnet, type, market),
    startInstances: (j, type, market) => of(j)?.startInstances?.(j, type, market),
    neverRuns: (j) => of(j)?.neverRuns?.(j) ?? false,
    terminatedAfterRegisteredMs: (j) => of(j)?.terminatedAfterRegisteredMs?.(j),
    readsLag: (j) => of(j)?.readsLag?.(j),
    terminate: (j) => of(j)?.terminate?.(j),
    neverRegisters: (j) => of(j)?.neverRegisters?.(j) ?? false,
    missingTools: (j) => of(j)?.missingTools?.(j),
    commandRunning: (j, phase) => of(j)?.commandRunning?.(j, phase),
    offeredAgain: (j, call) => of(j)?.offeredAgain?.(j, call) ?? false,
    badCredentials: (j, call) => of(j)?.badCredentials?.(j, call) ?? false,
    throttle: (service, op, j) => of(j)?.throttle?.(service, op, j) ?? false,
    dropEvent: (j, phase, status) => of(j)?.dropEvent?.(j, phase, status) ?? false,
  };
}

/** A fault that strikes while a job's command runs: from outside the build, as a person or EC2 would. */
export function applyCommandFault(cloud: LocalCloud, jobChaos: ReadonlyMap<string, Chaos>, jobId: string, instanceId: string, what: CommandFault): void {
  const running = [...cloud.sfn.executions.values()].filter((e) => e.name.startsWith(jobId) && e.status === 'RUNNING');
  if (what === 'terminateInstance') {
    const instance = cloud.ec2.instances.get(instanceId);
    if (instance) cloud.ec2.terminate(instance, 'Server.SpotInstanceTermination: Spot instance termination');
  } else if (what === 'interruptSpot') {
    // EC2 takes a Spot instance back: the warning event, then its interruption behavior after the notice.
    const instance = cloud.ec2.instances.get(instanceId);
    if (instance) cloud.ec2.interruptSpot(instance);
  } else if (what === 'abortExecution') {
    for (const e of running) {
      e.error = 'Aborted';
      e.cause = 'stopped by a person in the Step Functions console';
      e.abort?.();
    }
  } else if (what === 'timeOutExecution') {
    for (const e of running) e.timeOut?.();
  } else {
    const p = cloud.pipelines.get(jobId);
    cloud.codepipeline.abandon(jobId);
    if (!jobChaos.get(jobId)?.dropActionEvent?.(jobId, 'ABANDONED')) cloud.bus.put({ source: 'aws.codepipeline', 'detail-type': 'CodePipeline Action Execution State Change', detail: { ...p, 'execution-id': p?.executionId, state: 'ABANDONED', type: { ...cloud.actionType } } });
  }
}
