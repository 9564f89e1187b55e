import { JobConfigurationError } from '../../lambdas/shared/errors';
import { cacheKey, cacheOwner, parseCachePaths } from '../../lambdas/shared/cache-paths';
import { parseProperties } from '../../lambdas/poller/job';

const base = { ImageId: 'ami-0a1b2c3d4e5f67890', InstanceType: 't3.medium', Command: 'make' };

function problem(cachePaths: string): string {
  try {
    parseProperties({ ...base, CachePaths: cachePaths });
  } catch (err) {
    expect(err).toBeInstanceOf(JobConfigurationError);
    return (err as Error).message;
  }
  throw new Error('expected a JobConfigurationError');
}

describe('CachePaths', () => {
  it('takes directories relative to the working directory or absolute, comma-separated, trailing slashes dropped', () => {
    expect(parseProperties({ ...base, CachePaths: ' node_modules, /root/.m2/ ,C:\\cache\\nuget\\,.cache/pip' }).cachePaths).toBe('node_modules,/root/.m2,C:\\cache\\nuget,.cache/pip');
    expect(parseProperties(base).cachePaths).toBe('');
    expect(parseCachePaths('  ')).toEqual([]);
  });

  it.each([
    ['deps,$(reboot)', /^CachePaths must not contain control characters, quotes or any of/],
    ['deps,,lib', /^CachePaths lists an empty directory name/],
    ['deps,', /^CachePaths lists an empty directory name/],
    ['~/.npm', /^CachePaths names "~\/.npm", but ~ is not expanded .*\/root\//],
    ['../outside', /^CachePaths names "..\/outside", which has a '..' segment/],
    ['.', /^CachePaths names ".", which is the working directory or a root/],
    ['/', /^CachePaths names "\/", which is the working directory or a root/],
    ['C:\\', /^CachePaths names "C:", which is the working directory or a root/],
    ['a,b,c,d,e,f', /^CachePaths lists 6 directories; at most 5 are cached.*Cache their common parent directory instead\./],
    ['deps,deps/', /^CachePaths lists a directory twice/],
    [`deps,${'d'.repeat(200)}`, /^CachePaths is 205 characters long; at most 200/],
  ])('refuses %j before launch, naming CachePaths and the fix', (value, message) => {
    const text = problem(value);
    expect(text).toMatch(message);
    expect(text).toContain(`got ${JSON.stringify(value.trim().length > 80 ? `${value.trim().slice(0, 80)}…` : value.trim())}`);
  });

  it('keys the cache by pipeline, stage and action, and the directories, with no name or path in the key', () => {
    const owner = cacheOwner({ pipelineName: 'app', stageName: 'Build', actionName: 'Compile' })!;
    const key = cacheKey(owner, 'node_modules');
    expect(key).toMatch(/^cache\/[0-9a-f]{40}\/[0-9a-f]{40}$/);
    expect(key).not.toMatch(/app|Build|Compile|node_modules/);
    // Another action, stage or pipeline, or another directory: another object.
    const others = [
      cacheOwner({ pipelineName: 'app', stageName: 'Build', actionName: 'Test' }),
      cacheOwner({ pipelineName: 'app', stageName: 'Test', actionName: 'Compile' }),
      cacheOwner({ pipelineName: 'app2', stageName: 'Build', actionName: 'Compile' }),
      // The names' boundaries count: "a-b" + "c" is not "a" + "b-c".
      cacheOwner({ pipelineName: 'app', stageName: 'Build-Compile', actionName: 'x' }),
    ];
    for (const other of others) expect(cacheKey(other!, 'node_modules')).not.toBe(key);
    expect(cacheKey(owner, 'lib')).not.toBe(key);
    expect(cacheKey(cacheOwner({ pipelineName: 'a', stageName: 'b-c', actionName: 'd' })!, 'x')).not.toBe(cacheKey(cacheOwner({ pipelineName: 'a-b', stageName: 'c', actionName: 'd' })!, 'x'));
  });

  it('has no owner, so no cache, when CodePipeline did not name the pipeline, stage and action', () => {
    expect(cacheOwner({ pipelineName: 'app', stageName: '', actionName: 'Compile' })).toBeNull();
    expect(cacheOwner(undefined)).toBeNull();
  });
});
