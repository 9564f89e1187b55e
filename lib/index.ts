/**
 * ec2-build-action as a construct library: `Ec2BuildProvider` deploys the custom action type and everything that
 * runs its jobs; `Ec2BuildAction` adds a build on EC2 to a pipeline.
 */
export { Ec2BuildAction, type BuildEnvironmentVariable, type Ec2BuildActionProps } from './action';
export { Ec2BuildProvider, type Ec2BuildProviderAttributes, type IEc2BuildProvider } from './provider';
export { PropValueError, type Ec2BuildProviderProps, type FleetProps, type FleetSchedule, type Market } from './provider-props';
export { ActionTypeChangedError, type ActionTypePinOptions } from './action-type-snapshot';
export { Ec2BuildActionStack, type Ec2BuildActionStackProps } from './ec2-build-action-stack';
export type { ActionTypeRef } from '../lambdas/shared/types';
