/**
 * A read-only view of plain data, all the way down. Types derived from a zod schema (`z.infer`) are mutable; the
 * data they describe (results, comparisons, verdicts) is built once and never changed, so it is handed around as
 * `DeepReadonly<z.infer<typeof schema>>`: one source (the schema), and the compiler still refuses a write.
 */
export type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
