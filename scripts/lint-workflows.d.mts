// Types of scripts/lint-workflows.mjs for the TypeScript that imports it (test/unit/lint-workflows.test.ts).
export declare function workflowFiles(root?: string): string[];
export declare function asValidatorReads(text: string): string;
export declare function validate(file: string): { ok: boolean; output: string };
export declare function docWorkflows(root?: string): { name: string; text: string }[];
export declare function validateText(text: string): { ok: boolean; output: string };
