/**
 * The build document's step names (ssm-documents/run-build.yaml, mainSteps[].name): one step per
 * platform, each behind a platformType precondition, so the agent runs one and skips the other.
 * GetCommandInvocation needs the step's name (PluginName) when a document has more than one step:
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html
 * test/lambdas/document-steps.test.ts pins these names to the YAML.
 */
export const BUILD_STEPS = { Linux: 'runBuildLinux', Windows: 'runBuildWindows' } as const;

/** The order in which the result collector asks for the steps: most builds run on Linux. */
export const BUILD_STEP_ORDER = [BUILD_STEPS.Linux, BUILD_STEPS.Windows] as const;
