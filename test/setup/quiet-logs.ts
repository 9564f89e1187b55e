// The functions' structured logs stay out of the test output; a test that reads them sets its own level.
process.env.LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
