import { encodeEnvironment, resolveEnvironment, type ValueSources } from '../../lambdas/build-environment/environment';
import { decodeExports, OUTPUT_VARIABLES_MAX_BYTES } from '../../lambdas/completion/exports';
import type { EnvironmentVariable } from '../../lambdas/shared/build-environment';

const SECRET = 'hunter2-do-not-show';

/** Parameter Store and Secrets Manager as the SDK answers: a value, or an error named by its code. */
function sources(parameters: Record<string, string>, secrets: Record<string, string>): ValueSources {
  const missing = (name: string) => Object.assign(new Error(`${name} not found`), { name });
  return {
    parameter: async (name) => parameters[name] ?? Promise.reject(missing('ParameterNotFound')),
    secret: async (id) => secrets[id] ?? Promise.reject(missing('ResourceNotFoundException')),
  };
}

const variable = (name: string, type: EnvironmentVariable['type'], value: string): EnvironmentVariable => ({ name, type, value });

describe('resolving a build\'s environment while its instance boots', () => {
  it('reads parameters (decrypted) and secrets (a JSON key of one), keeping PLAINTEXT values as they are', async () => {
    const resolved = await resolveEnvironment(
      [variable('STAGE', 'PLAINTEXT', 'prod'), variable('TOKEN', 'PARAMETER_STORE', '/builds/token'), variable('DB', 'SECRETS_MANAGER', 'builds/db:password')],
      sources({ '/builds/token': 'tok' }, { 'builds/db': JSON.stringify({ password: SECRET }) }),
    );
    expect(resolved).toEqual([['STAGE', 'prod'], ['TOKEN', 'tok'], ['DB', SECRET]]);
  });

  it.each([
    ['a missing parameter', variable('TOKEN', 'PARAMETER_STORE', '/builds/none'), /variable "TOKEN" names parameter \/builds\/none, which does not exist in this account and Region \(ParameterNotFound\)/],
    ['a missing secret', variable('DB', 'SECRETS_MANAGER', 'builds/none'), /variable "DB" names secret builds\/none, which does not exist .*\(ResourceNotFoundException\)/],
    ['a JSON key the secret lacks', variable('DB', 'SECRETS_MANAGER', 'builds/db:user'), /variable "DB" asks for key "user" of secret builds\/db, which has no such key\./],
    ['a JSON key of a secret that is not JSON', variable('RAW', 'SECRETS_MANAGER', 'builds/raw:key'), /variable "RAW" asks for key "key" of secret builds\/raw, which is not a JSON object\./],
  ])('reports %s as a ConfigurationError naming the variable, never a value', async (_, v, message) => {
    const attempt = resolveEnvironment([v], sources({}, { 'builds/db': JSON.stringify({ password: SECRET }), 'builds/raw': SECRET }));
    await expect(attempt).rejects.toMatchObject({ name: 'JobConfigurationError', message: expect.stringMatching(message) });
    await expect(attempt).rejects.toMatchObject({ message: expect.not.stringContaining(SECRET) });
  });

  it('leaves errors that are not the user\'s (throttling, a service fault) to the state machine\'s retries and failure', async () => {
    const throttled: ValueSources = { parameter: () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })), secret: async () => null };
    await expect(resolveEnvironment([variable('T', 'PARAMETER_STORE', '/builds/t')], throttled)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('writes NUL-ended NAME=VALUE records, so newlines, quotes and $ reach the build as they are', () => {
    expect(encodeEnvironment([['A', 'x\ny'], ['B', '"$HOME"=1']]).toString('utf8')).toBe('A=x\ny\0B="$HOME"=1\0');
  });
});

describe('exported variables, read back for the final result', () => {
  it('gives each exported name its value at the end of the build, and an unset one an empty value', () => {
    expect(decodeExports(Buffer.from('VERSION=1.2\0TAG=a=b\nc\0', 'utf8'), ['VERSION', 'TAG', 'UNSET'])).toEqual({ VERSION: '1.2', TAG: 'a=b\nc', UNSET: '' });
  });

  it('refuses values beyond CodePipeline\'s 122880 bytes for an action\'s output variables, naming the largest', () => {
    const big = 'x'.repeat(OUTPUT_VARIABLES_MAX_BYTES);
    expect(() => decodeExports(Buffer.from(`SMALL=1\0BIG=${big}\0`), ['SMALL', 'BIG'])).toThrow(/the exported variables take 122889 bytes \(names and values\); CodePipeline allows 122880 .*the largest is BIG/);
  });
});
