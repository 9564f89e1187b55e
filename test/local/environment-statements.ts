/**
 * Statements only a job with EnvironmentVariables or ExportedVariables uses, which the faults' plain jobs never need
 * (test/local/faults.test.ts): test/local/build-environment.test.ts runs such jobs and checks each was used.
 */
export const ENVIRONMENT_STATEMENTS =
  /^(TasksBuildEnvironmentRole\w+ \w+\/(WriteBuildEnvironment|ReadBuildParameters|ReadBuildSecrets)|TasksArtifactUrlsRole\w+ \w+\/(SignBuildEnvironment|SignExportsUpload)|TasksCompletionRole\w+ \w+\/(ReadExports|DeleteJobObjects))$/;

/** The statement only a job with CachePaths uses (test/local/cache.test.ts checks it was used). */
export const CACHE_STATEMENTS = /^TasksArtifactUrlsRole\w+ \w+\/SignCacheTransfers$/;
