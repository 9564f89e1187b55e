import { HOLD_VARIABLE } from '../lambdas/shared/hold';
import { TAGS } from '../lambdas/shared/env';
import { PROPERTY } from '../lambdas/shared/properties';
import type { Fault } from './faults';
import { isReleased } from './services/ec2';

/** Minutes the fault's build holds its instance: seconds of real time in the local cloud (HOLD_MINUTE_SECONDS). */
const HOLD_MINUTES = 3;

/**
 * Hold on failure (#14 point 5): a build that fails keeps its instance for its hold, its failure reported when the
 * hold begins (one result), and the instance is released when the hold runs out. The scenario watches the instance
 * while the job runs: held (tagged with the hold's end) and running after the job's result, then released.
 */
export const HOLD_FAULTS: readonly Fault[] = [
  {
    name: 'hold-on-failure',
    // Its scenario sweeps the account during the hold: not beside a shared soak's jobs (Fault.accountWide).
    accountWide: true,
    description: `the build fails, and its action holds the instance on failure (${HOLD_VARIABLE}=${HOLD_MINUTES} in EnvironmentVariables)`,
    handling: 'the failure is reported at once with the aws ssm start-session command and the console link; the instance is tagged with the hold\'s end and kept, then released when the hold runs out (the sweeper would end it earlier on a retry)',
    expect: { status: 'Failed', failureType: 'JobFailed', message: /kept for 3 minutes .*aws ssm start-session --target i-[0-9a-f]+ .*Last lines of its output:\n.*failing on purpose/s, launched: 1 },
    // A pipeline of its own: in a soak, the jobs beside it are newer runs of the local pipeline's stage, which end a hold.
    job: { ownPipeline: true, command: 'echo "failing on purpose" >&2; exit 3', properties: { [PROPERTY.environmentVariables]: JSON.stringify([{ name: HOLD_VARIABLE, value: String(HOLD_MINUTES) }]) } },
    scenario: async ({ cloud, run }) => {
      const violations: string[] = [];
      let heldAfterResult = false;
      let released = false;
      let sweep: Promise<void> | undefined;
      const watching = setInterval(() => {
        for (const i of cloud.ec2.instances.values()) {
          const until = i.tags[TAGS.holdUntil];
          if (!until) continue;
          const reported = cloud.codepipeline.results(i.tags[TAGS.jobId] ?? '').length > 0;
          if (reported && !isReleased(i)) {
            heldAfterResult = true;
            // A sweep during the hold keeps the instance: its action failed, but its hold still runs and nothing reran it.
            // (This sweep comes within the event grace; test/lambdas/sweeper-held.test.ts shows a held build kept past it.)
            sweep ??= cloud.sweep().then(() => {
              if (isReleased(i) && Date.now() < Date.parse(until)) violations.push(`the sweeper ended the hold of ${i.instanceId} before it ran out`);
            });
          }
          if (isReleased(i)) released ||= true;
          // Never past the hold: a released instance is one whose hold had run out, or that the sweeper ended.
          if (!isReleased(i) && Date.now() > Date.parse(until) + 5_000) violations.push(`instance ${i.instanceId} still runs 5 s past its hold (${until})`);
        }
      }, 50);
      try {
        const s = await run();
        await sweep;
        if (!sweep) violations.push('no sweep ran during the hold');
        if (!heldAfterResult) violations.push('the instance was not kept after the job\'s result');
        const instance = cloud.ec2.instances.get(s.timeline.instances[0]?.instanceId ?? '');
        if (!instance?.tags[TAGS.holdUntil]) violations.push('the instance was never tagged with its hold\'s end');
        if (!released && !(instance && isReleased(instance))) violations.push('the instance was not released after its hold');
        return { summaries: [s], primary: s, violations: [...new Set(violations)] };
      } finally {
        clearInterval(watching);
      }
    },
  },
];
