import type { EnvironmentVariable } from './build-environment';
import { JobConfigurationError } from './errors';
import { PROPERTY } from './properties';

/**
 * Hold on failure: a build whose command failed keeps its instance for a while, so that a person can open a session on
 * it and look; the job's failure is reported when the hold starts (one result), and the instance is released when the
 * hold ends (the execution's "Wait For The Hold To End"), or earlier by the sweeper when the stage was retried, the
 * stage ran again in a newer pipeline execution, or the pipeline is gone (lambdas/sweeper/hold.ts).
 *
 * The stack's default is the context key / provider prop below; an action sets its own through a reserved variable of
 * EnvironmentVariables (version 3 already declares CodePipeline's ten properties, its limit, so no property is left).
 */
export const HOLD_VARIABLE = 'EC2_BUILD_ACTION_HOLD_MINUTES';

/** Minutes, whole: 0 (no hold) to 12 hours. */
export const HOLD_LIMITS = { min: 0, max: 720 } as const;

/** The stack setting's names, as the app (context) and the construct library (props) take them. */
export const HOLD_SETTING = { context: 'ec2-build-action:holdOnFailureMinutes', prop: 'holdOnFailureMinutes' } as const;

/** Whether a value is a hold in minutes this stack takes. */
export function isHoldMinutes(value: number): boolean {
  return Number.isInteger(value) && value >= HOLD_LIMITS.min && value <= HOLD_LIMITS.max;
}

/**
 * The action's own hold from its EnvironmentVariables (undefined when it sets none: the stack's default applies). A
 * PLAINTEXT whole number of minutes; anything else is a ConfigurationError naming the variable, before any launch.
 */
export function actionHoldMinutes(environment: readonly EnvironmentVariable[]): number | undefined {
  const v = environment.find((e) => e.name === HOLD_VARIABLE);
  if (!v) return undefined;
  const where = `${PROPERTY.environmentVariables}: variable ${HOLD_VARIABLE}`;
  if (v.type !== 'PLAINTEXT') throw new JobConfigurationError(`${where} must be PLAINTEXT (a number of minutes the instance of a failed build is kept), got type ${v.type}.`);
  const minutes = /^[0-9]{1,4}$/.test(v.value.trim()) ? Number(v.value.trim()) : NaN;
  if (!isHoldMinutes(minutes)) {
    throw new JobConfigurationError(`${where} must be a whole number of minutes from ${HOLD_LIMITS.min} (no hold) to ${HOLD_LIMITS.max}, got ${JSON.stringify(v.value.slice(0, 40))}.`);
  }
  return minutes;
}

/** The Region of an ARN (arn:partition:service:region:account:…). */
export function regionOf(arn: string): string {
  return arn.split(':')[3] ?? '';
}

/**
 * What the failure message adds when the instance is held: how to open a shell on it, Linux or Windows alike (Session
 * Manager: `aws ssm start-session --target`, https://docs.aws.amazon.com/cli/latest/reference/ssm/start-session.html;
 * it needs the Session Manager plugin, and ssm:StartSession for the person), the console's page for the same, and
 * what ends the hold. The console's URL scheme is not documented; the CLI command is the one that is.
 */
export function holdNote(instanceId: string, region: string, minutes: number, until: Date): string {
  const console = `https://${region}.console.aws.amazon.com/systems-manager/session-manager/${instanceId}?region=${region}`;
  return (
    ` The instance is kept for ${minutes} minute${minutes === 1 ? '' : 's'} (until ${until.toISOString().slice(0, 16).replace('T', ' ')} UTC) so you can look at it:` +
    ` aws ssm start-session --target ${instanceId} --region ${region} (or ${console}).` +
    ' Retrying the stage, or a newer run of it, ends the hold at the next sweep.'
  );
}
