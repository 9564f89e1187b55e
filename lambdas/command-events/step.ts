import { BUILD_STEP_ORDER } from '../shared/document';
import { getInvocation, type Invocation } from '../shared/ssm';
import { errorCode } from '../shared/errors';
import { statusKey } from '../shared/types';

/**
 * What the SSM agent writes as the output of a step whose precondition does not hold
 * ("Step execution skipped due to unsatisfied preconditions: ... Step name: ...", in amazon-ssm-agent's
 * runpluginutil source; AWS's documentation does not quote it).
 */
const SKIPPED_OUTPUT = /Step execution skipped/i;

/**
 * Whether this step was skipped on this instance (its platformType precondition did not match).
 * The API reference does not say how a skipped step is reported: its Status enum has no "Skipped",
 * while the agent reports one. Either reading is recognised here: a StatusDetails of Skipped, or any
 * status with the agent's skip message as the step's output.
 */
export function wasSkipped(step: Invocation): boolean {
  return statusKey(step.statusDetails) === 'Skipped' || statusKey(step.status) === 'Skipped' || SKIPPED_OUTPUT.test(step.stdout);
}

/**
 * The result of the build document's step that ran on the instance: each step is asked for by
 * name, Linux's first, until one was not skipped. One call for a Linux build, two for Windows;
 * no platform lookup, so it works as well for an instance that is gone.
 */
export async function stepThatRan(commandId: string, instanceId: string, command: { status: string; statusDetails: string }): Promise<Invocation> {
  let last: Invocation | undefined;
  for (const step of BUILD_STEP_ORDER) {
    try {
      last = await getInvocation(commandId, instanceId, step);
    } catch (err) {
      // A command that never reached the agent (expired undelivered, undeliverable, cancelled while
      // pending) has no step results; the API reference lists InvalidPluginName and
      // InvocationDoesNotExist but not which such a command gets. Either way the command's own
      // status (ListCommands: Status and StatusDetails) says what happened.
      if (errorCode(err) !== 'InvalidPluginName' && errorCode(err) !== 'InvocationDoesNotExist') throw err;
      return { status: command.status, statusDetails: command.statusDetails, exitCode: -1, stdout: '', stderr: '', startedAt: '', endedAt: '' };
    }
    if (!wasSkipped(last)) return last;
  }
  // Every step skipped (no platform matched): the last answer says so in its output.
  return last!;
}
