/**
 * How the Lambdas are bundled, shared by the stack and the benchmark so they measure what ships.
 * ES module entry points first: esbuild can then drop the parts of each AWS SDK client a function
 * does not use (the CommonJS builds are single files it cannot shake).
 */
export const MAIN_FIELDS = ['module', 'main'];
