describe('the functions\' logger obeys Powertools\' settings', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.resetModules();
  });

  it('takes its level from POWERTOOLS_LOG_LEVEL, which no level in code overrides', async () => {
    // GIVEN the level a user sets on the function
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
    delete process.env.LOG_LEVEL;
    const { createLogger } = await import('../../lambdas/shared/logger');
    // WHEN a function creates its logger THEN that level holds
    expect(createLogger('test').getLevelName()).toBe('ERROR');
  });

  it('logs INFO when nothing is set, as Powertools does', async () => {
    delete process.env.POWERTOOLS_LOG_LEVEL;
    delete process.env.LOG_LEVEL;
    const { createLogger } = await import('../../lambdas/shared/logger');
    expect(createLogger('test').getLevelName()).toBe('INFO');
  });
});
