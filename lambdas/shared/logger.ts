import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per function; handlers add the job id as a persistent key. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
}
