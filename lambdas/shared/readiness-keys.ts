/**
 * The readiness partition's key in the stack's table (readiness-table.ts), apart from the table code so that lib/ can
 * name it in IAM (dynamodb:LeadingKeys) without loading the DynamoDB client into a user's CDK app.
 */
export const READINESS_PK = 'READINESS';
