/**
 * aws-cdk-lib's built-in CloudFormation validation runs on every synth unless CDK_VALIDATION is "false" (App's
 * builtinCloudFormationValidation: node_modules/aws-cdk-lib/core/lib/app.d.ts). It turns its own errors into warnings
 * (a synth never fails on it), so it can fail no test here, and it costs about 5 s of CPU in each test file that
 * synthesizes the app, and in the local cloud's `cdk synth`, which inherits this environment. Off for the tests but
 * test/cdk/stack.test.ts, which checks that the synthesized app's validation report is empty with it on; on for every
 * `npx cdk synth` outside the tests. The stack's CloudFormation is also checked by cfn-lint (test/cdk/cfn-lint.test.ts).
 */
process.env.CDK_VALIDATION ??= 'false';
