import { ENV } from '../../lambdas/shared/env';
import { loadActionTypes, loadRenewalSeconds, loadSweeperConfig, MissingConfigError } from '../../lambdas/shared/config';

/** The one reader of the functions' configuration: a missing variable and an unusable one are told apart. */
const sweeper = { [ENV.stackTagValue]: 'Ec2BuildAction', [ENV.maxJobMinutes]: '1670', [ENV.buildDocumentName]: 'Doc', [ENV.eventGraceMs]: '300000' };

describe('function configuration', () => {
  it('says a variable is not set when it is missing or blank', () => {
    expect(() => loadRenewalSeconds({})).toThrow(new MissingConfigError(ENV.jobRenewalSeconds));
    expect(() => loadRenewalSeconds({ [ENV.jobRenewalSeconds]: ' ' })).toThrow(`environment variable ${ENV.jobRenewalSeconds} is not set`);
  });

  it('names the variable, echoes its value and says what it must be when it is set but unusable', () => {
    expect(() => loadSweeperConfig({ ...sweeper, [ENV.maxJobMinutes]: '-5' })).toThrow(`environment variable ${ENV.maxJobMinutes} must be a positive number of minutes, got "-5"`);
    expect(() => loadRenewalSeconds({ [ENV.jobRenewalSeconds]: '1.5' })).toThrow(`environment variable ${ENV.jobRenewalSeconds} must be a whole number of seconds, 1 or more, got "1.5"`);
    expect(() => loadActionTypes({ [ENV.actionCategory]: 'Build', [ENV.actionProvider]: 'EC2-Build', [ENV.actionVersion]: '1,,2' })).toThrow(`environment variable ${ENV.actionVersion} must be a comma-separated list of versions, got "1,,2"`);
  });

  it('reads every version the provider serves, kept ones first', () => {
    expect(loadActionTypes({ [ENV.actionCategory]: 'Build', [ENV.actionProvider]: 'EC2-Build', [ENV.actionVersion]: '1, 2' }).map((t) => t.version)).toEqual(['1', '2']);
    expect(loadSweeperConfig(sweeper).maxJobMinutes).toBe(1670);
  });
});
