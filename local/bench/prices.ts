/**
 * List prices used by the benchmark's cost figures: US East (N. Virginia), on-demand, as published
 * on the pages named below and read on the date below. Check them before relying on them.
 */
export const PRICES_READ_ON = '2026-11-22';

export const PRICES = {
  /** Step Functions Standard: $0.025 per 1,000 state transitions, retries included. https://aws.amazon.com/step-functions/pricing/ */
  stepFunctionsPerTransition: 0.025 / 1000,
  /** Lambda requests: $0.20 per 1M. https://aws.amazon.com/lambda/pricing/ */
  lambdaPerRequest: 0.2 / 1_000_000,
  /** Lambda duration, Arm: $0.0000133334 per GB-second. https://aws.amazon.com/lambda/pricing/ */
  lambdaArmPerGbSecond: 0.0000133334,
  /** EC2 c7i.xlarge (4 vCPU, 8 GiB) Linux: $0.1785 per hour, billed per second, 60 s minimum. https://aws.amazon.com/ec2/pricing/on-demand/ */
  ec2C7iXlargePerHour: 0.1785,
  /** EBS gp3: $0.08 per GB-month. https://aws.amazon.com/ebs/pricing/ */
  ebsGp3PerGbMonth: 0.08,
  /** CodeBuild general1.medium (4 vCPU, 7 GB) Linux: $0.01 per minute, whole minutes. https://aws.amazon.com/codebuild/pricing/ */
  codeBuildGeneral1MediumPerMinute: 0.01,
} as const;

/** Assumptions of the cost model, stated with the figures. */
export const COST_ASSUMPTIONS = {
  /** Memory of every function (lib/lambda-function.ts). */
  lambdaMemoryGb: 0.25,
  /** Billed duration assumed per invocation: generous for handlers that make one to three API calls. */
  lambdaBilledSeconds: 0.2,
  /** Root volume of a build instance (context ec2-build-action:rootVolumeGiB default). */
  rootVolumeGb: 30,
  /** Instance time billed beyond the build: boot, agent registration, staging, release. */
  ec2OverheadSeconds: 90,
} as const;

/**
 * Step Functions transitions plus Lambda requests and duration. `watchSeconds` is the time the
 * instance checks spend watching the instance boot and register (billed Lambda time).
 */
export function orchestrationUsd(transitions: number, lambdaInvocations: number, watchSeconds: number): number {
  const gbSecond = COST_ASSUMPTIONS.lambdaMemoryGb * PRICES.lambdaArmPerGbSecond;
  const lambda = lambdaInvocations * (PRICES.lambdaPerRequest + COST_ASSUMPTIONS.lambdaBilledSeconds * gbSecond) + watchSeconds * gbSecond;
  return transitions * PRICES.stepFunctionsPerTransition + lambda;
}

/** EC2 compute and storage for a build of `minutes`, plus the orchestration. */
export function ec2JobUsd(minutes: number, orchestration: number): number {
  const seconds = Math.max(60, minutes * 60 + COST_ASSUMPTIONS.ec2OverheadSeconds);
  const compute = (seconds / 3600) * PRICES.ec2C7iXlargePerHour;
  const storage = (seconds / (730 * 3600)) * COST_ASSUMPTIONS.rootVolumeGb * PRICES.ebsGp3PerGbMonth;
  return compute + storage + orchestration;
}

export function codeBuildJobUsd(minutes: number): number {
  return Math.ceil(minutes) * PRICES.codeBuildGeneral1MediumPerMinute;
}
