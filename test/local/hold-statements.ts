/**
 * The statement only a build held on failure uses (the state machine's tag of the hold's end), which the faults' plain
 * jobs never need (test/local/faults.test.ts): test/local/hold-fault.test.ts runs a held build and checks it was used.
 */
export const HOLD_STATEMENTS = /^WorkflowRole\w+ \w+\/TagHeldInstances$/;
