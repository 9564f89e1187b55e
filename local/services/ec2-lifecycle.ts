import { AwsError } from './aws-error';

/**
 * What EC2 does to an instance beyond launch and termination, for warm pools and Spot: the market it runs in,
 * stop and start (with hibernation), Spot interruptions, and the EventBridge events all of these emit.
 */

export type Market = 'on-demand' | 'spot';
export type InterruptionBehavior = 'terminate' | 'stop' | 'hibernate';

/** How an instance was launched, as RunInstances' InstanceMarketOptions and HibernationOptions say. */
export interface LaunchOptions {
  readonly market: Market;
  /** One-time (the default) or persistent: only a persistent request's instance can be stopped. */
  readonly spotRequestType?: 'one-time' | 'persistent';
  readonly interruptionBehavior?: InterruptionBehavior;
  /** Launched with HibernationOptions.Configured: only then does a stop with Hibernate hibernate. */
  readonly hibernationConfigured: boolean;
}

/**
 * RunInstances' market and hibernation parameters (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceMarketOptionsRequest.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SpotMarketOptions.html):
 * - with HibernationOptions.Configured, the interruption behavior is hibernate, and setting stop or terminate is an error;
 * - stop and hibernate need a persistent request ("The Spot Instance request type must be persistent":
 *   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/interruption-behavior.html).
 * EC2's error codes for these two are not documented: InvalidParameterCombination is its code for parameters that
 * cannot go together (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
 */
export function launchOptions(p: URLSearchParams): LaunchOptions {
  const marketType = p.get('InstanceMarketOptions.MarketType');
  const hibernationConfigured = p.get('HibernationOptions.Configured') === 'true';
  if (marketType !== null && marketType !== 'spot') throw new AwsError('InvalidParameterValue', `Invalid value '${marketType}' for InstanceMarketOptions.MarketType.`);
  if (marketType !== 'spot') return { market: 'on-demand', hibernationConfigured };
  const requestType = (p.get('InstanceMarketOptions.SpotOptions.SpotInstanceType') ?? 'one-time') as 'one-time' | 'persistent';
  if (!['one-time', 'persistent'].includes(requestType)) throw new AwsError('InvalidParameterValue', `Invalid value '${requestType}' for SpotInstanceType.`);
  const asked = p.get('InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior') as InterruptionBehavior | null;
  if (asked !== null && !['terminate', 'stop', 'hibernate'].includes(asked)) throw new AwsError('InvalidParameterValue', `Invalid value '${asked}' for InstanceInterruptionBehavior.`);
  if (hibernationConfigured && asked !== null && asked !== 'hibernate') {
    throw new AwsError('InvalidParameterCombination', `InstanceInterruptionBehavior must be hibernate when hibernation is configured, got ${asked}.`);
  }
  const behavior: InterruptionBehavior = hibernationConfigured ? 'hibernate' : (asked ?? 'terminate');
  if (behavior !== 'terminate' && requestType !== 'persistent') {
    throw new AwsError('InvalidParameterCombination', `InstanceInterruptionBehavior ${behavior} requires a persistent Spot Instance request.`);
  }
  return { market: 'spot', spotRequestType: requestType, interruptionBehavior: behavior, hibernationConfigured };
}

/** The states StopInstances and StartInstances move between (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html). */
export interface Stoppable {
  readonly instanceId: string;
  readonly launch: LaunchOptions;
  state: 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
}

/**
 * Why StopInstances refuses an instance, in EC2's words, or null. A one-time Spot Instance cannot be stopped
 * (UnsupportedOperation, "You can only stop Spot Instances associated with persistent Spot Instance requests");
 * a pending, shutting-down or terminated one is in no state to be stopped (IncorrectInstanceState). Stopping a
 * stopping or stopped instance changes nothing.
 */
export function stopRefusal(instance: Stoppable): AwsError | null {
  if (instance.launch.market === 'spot' && instance.launch.spotRequestType !== 'persistent') {
    return new AwsError(
      'UnsupportedOperation',
      `You can't stop the Spot Instance '${instance.instanceId}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`,
    );
  }
  if (!['running', 'stopping', 'stopped'].includes(instance.state)) {
    return new AwsError('IncorrectInstanceState', `This instance '${instance.instanceId}' is not in a state from which it can be stopped.`);
  }
  return null;
}

/**
 * Why StartInstances refuses an instance, or null. Only a stopped instance starts; a running or pending one is
 * already started (no change); stopping, shutting-down and terminated ones cannot (IncorrectInstanceState).
 * An interrupted Spot Instance that EC2 stopped is restarted only by EC2 ("Only Amazon EC2 can restart an
 * interrupted stopped Spot Instance": https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/interruption-behavior.html).
 */
export function startRefusal(instance: Stoppable, interruptedBySpot: boolean): AwsError | null {
  if (['stopping', 'shutting-down', 'terminated'].includes(instance.state)) {
    return new AwsError('IncorrectInstanceState', `The instance '${instance.instanceId}' is not in a state from which it can be started.`);
  }
  if (instance.state === 'stopped' && interruptedBySpot) {
    return new AwsError('IncorrectInstanceState', `The instance '${instance.instanceId}' was stopped by a Spot interruption; only Amazon EC2 can restart it.`);
  }
  return null;
}

/** An EventBridge event EC2 emits (source aws.ec2). */
export interface Ec2Event {
  readonly source: 'aws.ec2';
  readonly 'detail-type': string;
  readonly resources: string[];
  readonly detail: Record<string, string>;
}

const instanceArn = (id: string) => `arn:aws:ec2:us-east-1:000000000000:instance/${id}`;

/** "EC2 Instance State-change Notification": https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html */
export function stateChangeEvent(instanceId: string, state: string): Ec2Event {
  return { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', resources: [instanceArn(instanceId)], detail: { 'instance-id': instanceId, state } };
}

/**
 * "EC2 Spot Instance Interruption Warning", two minutes before EC2 stops or terminates the instance, at once for
 * hibernation, and on a best-effort basis (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html).
 */
export function interruptionWarning(instanceId: string, action: InterruptionBehavior): Ec2Event {
  return { source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', resources: [instanceArn(instanceId)], detail: { 'instance-id': instanceId, 'instance-action': action } };
}
