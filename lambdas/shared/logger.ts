import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured logger per function; handlers add the Lambda context and the job id. Its level
 * comes from Powertools' settings (POWERTOOLS_LOG_LEVEL, then LOG_LEVEL; INFO when neither is set):
 * a level passed here would override them (https://docs.powertools.aws.dev/lambda/typescript/latest/core/logger/#log-levels).
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
