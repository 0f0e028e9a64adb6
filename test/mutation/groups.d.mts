/** A group of guarded modules and the tests that run against them. */
export interface MutationGroup {
  mutate: string[];
  tests: string[];
}
export declare const GROUPS: Record<string, MutationGroup>;
export declare function selectedGroups(): MutationGroup[];
