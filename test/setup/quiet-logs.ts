// The functions' structured logs stay out of the test output; a test that reads them sets its own level.
process.env.LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// The functions' metric lines too (a test that reads them sets POWERTOOLS_METRICS_DISABLED=false); every function
// is told its stack's name by the stack (lib/lambda-function.ts), and a handler loaded by a test by this.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.METRICS_STACK ??= 'TestStack';
