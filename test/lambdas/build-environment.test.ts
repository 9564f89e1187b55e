import { parseEnvironmentVariables, parseExportedVariables, secretReference } from '../../lambdas/shared/build-environment';
import { parseProperties } from '../../lambdas/poller/job';

const scope = { parameterPrefixes: ['/builds/'], secretPrefixes: ['builds/'] };
const vars = (...items: unknown[]) => JSON.stringify(items);

describe('EnvironmentVariables, as the CodeBuild action takes them', () => {
  it('takes PLAINTEXT (the default), PARAMETER_STORE and SECRETS_MANAGER variables within the stack\'s prefixes', () => {
    // GIVEN variables of each type, the parameter and the secret under the stack's prefixes
    const raw = vars({ name: 'STAGE', value: 'prod' }, { name: 'TOKEN', value: '/builds/token', type: 'PARAMETER_STORE' }, { name: 'DB', value: 'builds/db:password::', type: 'SECRETS_MANAGER' });
    // WHEN parsed THEN each keeps its type, and secrets travel as references only
    expect(parseEnvironmentVariables(raw, scope)).toEqual([
      { name: 'STAGE', type: 'PLAINTEXT', value: 'prod' },
      { name: 'TOKEN', type: 'PARAMETER_STORE', value: '/builds/token' },
      { name: 'DB', type: 'SECRETS_MANAGER', value: 'builds/db:password::' },
    ]);
  });

  it.each([
    ['bad JSON', '[{"name":"A"', /^EnvironmentVariables is not valid JSON .*Write a JSON array like/],
    ['not an array', '{"name":"A","value":"b"}', /^EnvironmentVariables must be a JSON array/],
    ['an unknown type', vars({ name: 'KEY', value: 'x', type: 'SECRET' }), /^EnvironmentVariables: variable "KEY" has type "SECRET"; use PLAINTEXT, PARAMETER_STORE, SECRETS_MANAGER\./],
    ['a bad name', vars({ name: '1ST', value: 'x' }), /^EnvironmentVariables: variable "1ST" needs a "name" of 1 to 128 letters/],
    ['a missing name', vars({ value: 'x' }), /^EnvironmentVariables: variable "#1" needs a "name"/],
    ['a reserved name', vars({ name: 'CODEPIPELINE_JOB_ID', value: 'x' }), /variable "CODEPIPELINE_JOB_ID" is reserved/],
    ['a name set twice', vars({ name: 'A', value: 'x' }, { name: 'A', value: 'y' }), /variable "A" is set twice/],
    ['a reserved name in another case (one name on Windows)', vars({ name: 'CodePipeline_Job_Id', value: 'x' }), /variable "CodePipeline_Job_Id" is reserved/],
    ['a name the document reads (its parameters)', vars({ name: 'SSM_Command', value: 'echo hijacked' }), /variable "SSM_Command" is reserved: the build document itself uses SSM_\*, EC2_BUILD_ACTION_\*/],
    ['a name the document sets for the exports hook', vars({ name: 'BASH_ENV', value: '/tmp/x' }), /variable "BASH_ENV" is reserved/],
    ['one of the document\'s own, in another case', vars({ name: 'ec2_build_action_exports', value: 'x' }), /variable "ec2_build_action_exports" is reserved/],
    ['a read-only variable of bash', vars({ name: 'UID', value: '0' }), /variable "UID" is reserved/],
    ['two names that differ only in case (one variable on Windows)', vars({ name: 'Path', value: 'x' }, { name: 'PATH', value: 'y' }), /variable "PATH" is set twice \(names that differ only in case/],
    ['an empty value', vars({ name: 'A', value: '' }), /variable "A" needs a "value": a string of 1 to 2000 characters/],
    ['an unknown key', vars({ name: 'A', value: 'x', secret: true }), /variable "A" has unknown key\(s\) secret/],
    ['a parameter name with a space', vars({ name: 'P', value: '/builds/a b', type: 'PARAMETER_STORE' }), /variable "P" must name a Parameter Store parameter/],
  ])('refuses %s with a ConfigurationError naming the variable', (_, raw, message) => {
    expect(() => parseEnvironmentVariables(raw, scope)).toThrow(expect.objectContaining({ name: 'JobConfigurationError', message: expect.stringMatching(message) }));
  });

  it('refuses a parameter or a secret outside the stack\'s prefixes, naming the variable and the setting to change', () => {
    const outside = vars({ name: 'TOKEN', value: '/other/token', type: 'PARAMETER_STORE' });
    expect(() => parseEnvironmentVariables(outside, scope)).toThrow(/variable "TOKEN" names parameter \/other\/token, but this stack lets builds read only parameters under \/builds\/\. Add its path to the stack's ec2-build-action:parameterPrefixes context key \(or the provider's parameterPrefixes prop\)/);
    const none = { parameterPrefixes: [], secretPrefixes: [] };
    expect(() => parseEnvironmentVariables(vars({ name: 'DB', value: 'builds/db', type: 'SECRETS_MANAGER' }), none)).toThrow(/variable "DB" names secret builds\/db, but this stack lets builds read no secrets\. Add its name prefix to the stack's ec2-build-action:secretPrefixes context key/);
    // An ARN is checked by the secret's name in it.
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other/db-AbCdEf:password';
    expect(() => parseEnvironmentVariables(vars({ name: 'DB', value: arn, type: 'SECRETS_MANAGER' }), scope)).toThrow(/names secret other\/db-AbCdEf/);
    // At synth the settings are not known: any reference passes, the poller checks it.
    expect(parseEnvironmentVariables(outside, null)).toHaveLength(1);
  });

  it('splits a secret reference into its id (a name or an ARN) and CodeBuild\'s qualifiers', () => {
    expect(secretReference('builds/db')).toEqual({ secretId: 'builds/db', name: 'builds/db', jsonKey: '', versionStage: '', versionId: '' });
    expect(secretReference('arn:aws:secretsmanager:us-east-1:123456789012:secret:builds/db-AbCdEf:password:AWSPREVIOUS')).toEqual({
      secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:builds/db-AbCdEf',
      name: 'builds/db-AbCdEf',
      jsonKey: 'password',
      versionStage: 'AWSPREVIOUS',
      versionId: '',
    });
  });
});

describe('ExportedVariables', () => {
  it('takes comma-separated names, kept as the document parameter takes them', () => {
    expect(parseExportedVariables(' VERSION, IMAGE_TAG ')).toEqual(['VERSION', 'IMAGE_TAG']);
    expect(parseProperties({ ImageId: 'ami-0a1b2c3d4e5f67890', InstanceType: 't3.micro', Command: 'make', ExportedVariables: 'VERSION, IMAGE_TAG' }).exportedVariables).toBe('VERSION,IMAGE_TAG');
  });

  it.each([
    ['VERSION,,TAG', /ExportedVariables: "" is not a variable name/],
    ['my-var', /ExportedVariables: "my-var" is not a variable name/],
    ['A,A', /ExportedVariables names a variable twice: A,A/],
  ])('refuses %s with a ConfigurationError', (raw, message) => {
    expect(() => parseExportedVariables(raw)).toThrow(expect.objectContaining({ name: 'JobConfigurationError', message: expect.stringMatching(message) }));
  });
});

describe('ExportedVariables and the environment\'s secrets', () => {
  const scope = { parameterPrefixes: ['/builds/'], secretPrefixes: ['builds/'] };
  const environment = JSON.stringify([
    { name: 'STAGE', value: 'prod', type: 'PLAINTEXT' },
    { name: 'TOKEN', value: '/builds/token', type: 'PARAMETER_STORE' },
    { name: 'DB', value: 'builds/db:password', type: 'SECRETS_MANAGER' },
  ]);
  const variables = parseEnvironmentVariables(environment, scope);

  it('exports a PLAINTEXT variable, and one the build sets itself', () => {
    expect(parseExportedVariables('STAGE,VERSION', variables)).toEqual(['STAGE', 'VERSION']);
  });

  it.each([['TOKEN', 'PARAMETER_STORE'], ['DB', 'SECRETS_MANAGER']])('refuses to export %s, a %s variable, whose value would become an output variable', (name, type) => {
    expect(() => parseExportedVariables(`VERSION,${name}`, variables)).toThrow(
      expect.objectContaining({ name: 'JobConfigurationError', message: expect.stringContaining(`ExportedVariables names ${name}, a ${type} variable of EnvironmentVariables`) }),
    );
  });

  it('refuses to export a secret named in another case (one variable on Windows, which would export its value)', () => {
    expect(() => parseExportedVariables('token', variables)).toThrow(expect.objectContaining({ message: expect.stringContaining('ExportedVariables names TOKEN, a PARAMETER_STORE variable') }));
  });

  it.each([
    ['a fifth segment', 'builds/db:password:AWSCURRENT:v1:junk'],
    ['an ARN of another service', 'arn:aws:ssm:us-east-1:123456789012:parameter/builds/db'],
    ['an ARN of another secretsmanager resource type', 'arn:aws:secretsmanager:us-east-1:123456789012:other:builds/db-AbCdEf'],
  ])('refuses a SECRETS_MANAGER reference with %s', (_, value) => {
    expect(() => parseEnvironmentVariables(JSON.stringify([{ name: 'DB', value, type: 'SECRETS_MANAGER' }]), null)).toThrow(
      expect.objectContaining({ name: 'JobConfigurationError', message: expect.stringContaining('must be secret-id[:json-key[:version-stage[:version-id]]]') }),
    );
  });

  it('takes a secret\'s ARN with a JSON key, a version stage and a version id', () => {
    const value = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:builds/db-AbCdEf:password:AWSCURRENT:v1';
    expect(parseEnvironmentVariables(JSON.stringify([{ name: 'DB', value, type: 'SECRETS_MANAGER' }]), scope)).toEqual([{ name: 'DB', value, type: 'SECRETS_MANAGER' }]);
  });
});
