/** A group of guarded modules and the tests that run against them. */
export interface MutationGroup {
  mutate: string[];
  tests: string[];
  /** The group's floor: Stryker fails under it (`thresholds.break`). */
  break: number;
  /** Leave out the group's static (module-load) mutants. */
  ignoreStatic?: boolean;
}
export declare const GROUPS: Record<string, MutationGroup>;
export declare function selectedGroups(): MutationGroup[];
export declare function selectedGroupNames(): string[];
