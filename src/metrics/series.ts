import type { MetricDefinition, MetricType } from './catalog.js';
import { OVERFLOW_LABEL_VALUE } from './catalog.js';

/** Longest label value kept; longer values are cut (and still guarded by the cap). */
export const MAX_LABEL_VALUE_LENGTH = 200;

/**
 * Separator of label values inside a series key. A control character never
 * produced by route templates, queue names or status codes.
 */
const SEP = '\u0001';

/** Overflow series allowed beyond the cap (one per combination of bounded labels). */
const OVERFLOW_SERIES_MAX = 100;

/** Hooks through which instruments report what they absorbed. */
export interface GuardHooks {
  /** A new label combination arrived after the cap was reached. */
  onOverflow(metric: string): void;
  /** A value that is not a finite number (or a negative counter increment) was dropped. */
  onInvalid(metric: string): void;
  /**
   * An observation was dropped because its label object lacks a declared
   * label or has one the metric does not declare (JavaScript callers; the
   * types catch it in TypeScript). `problem` names labels, never values.
   */
  onLabelError(metric: string, problem: string): void;
  /**
   * The scrubbing engine's string scrubber (`redactString`): a label value
   * it changes holds a secret or an e-mail address, and the series gets
   * {@link REDACTED_LABEL_VALUE} instead. Without it, values are kept.
   */
  scrubLabel?: (value: string) => string;
  /** A label value was replaced by {@link REDACTED_LABEL_VALUE}. */
  onRedacted?(metric: string): void;
}

/**
 * The value a label gets when its given value held a secret or an e-mail
 * address. The whole value is replaced (not only the secret part), so that
 * the values it stands for collapse into one series.
 */
export const REDACTED_LABEL_VALUE = '[REDACTED]';

/** The label object of one series, values already normalised to strings. */
export type SeriesLabels = Readonly<Record<string, string>>;

/** Shape shared by the series of every instrument kind. */
export interface SeriesBase {
  readonly labels: SeriesLabels;
}

/**
 * Normalises one label value: numbers and booleans become strings, nullish
 * becomes the empty string, long values are cut. Never throws.
 */
export function labelValue(raw: unknown): string {
  if (typeof raw === 'string') {
    return raw.length > MAX_LABEL_VALUE_LENGTH ? raw.slice(0, MAX_LABEL_VALUE_LENGTH) : raw;
  }
  if (raw === undefined || raw === null) return '';
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  // A bigint, an object: its text, cut like any string (a bigint has no bound).
  return labelValue(safeString(raw));
}

function safeString(raw: unknown): string {
  try {
    return String(raw);
  } catch {
    return '';
  }
}

/**
 * The part every guarded instrument shares: series storage keyed by the label
 * values in declaration order, and the cardinality cap. Past the cap a new
 * combination goes to one overflow series (bounded labels keep their value,
 * the rest read `__overflow__`), and the overflow is counted.
 *
 * The key is built by concatenating the values in the declared label order,
 * decided once at construction: no sorting, no per-call allocation beyond the
 * key string (prom-client sorts keys and validates every call).
 */
export abstract class GuardedMetric<S extends SeriesBase> {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly labelNames: readonly string[];
  /** prom-client's registry reads this when merging cluster metrics. */
  readonly aggregator = 'sum';
  protected series = new Map<string, S>();
  private readonly cap: number;
  private readonly keep: readonly boolean[];
  private readonly hooks: GuardHooks;
  private overflowCount = 0;
  /**
   * Bumped whenever series are dropped (`reset`, `remove`): a series held by
   * a bound recorder is valid while the epoch it was resolved in lasts.
   */
  private epochCount = 0;
  /**
   * Told once, at the first use (the first series created, the first
   * collector added): how a catalog family shown only once used gets into
   * the registry. Checked only where a series is created, never per
   * observation of an existing series.
   */
  private firstUse: (() => void) | undefined;

  constructor(def: MetricDefinition, cap: number, hooks: GuardHooks) {
    this.name = def.name;
    this.help = def.help;
    this.type = def.type;
    this.labelNames = def.labelNames;
    this.cap = cap;
    this.hooks = hooks;
    const bounded = new Set(def.boundedLabels ?? []);
    this.keep = def.labelNames.map((l) => bounded.has(l));
  }

  /** Creates the storage of a new series. */
  protected abstract create(labels: SeriesLabels): S;

  /** Number of series currently held (overflow series included). */
  get seriesCount(): number {
    return this.series.size;
  }

  /** How many observations went to an overflow series since start. */
  get overflowed(): number {
    return this.overflowCount;
  }

  /** @internal Changes whenever series are dropped; see {@link BoundSeries}. */
  get epoch(): number {
    return this.epochCount;
  }

  /**
   * @internal Defers `fn` to the first use of this instrument (see
   * `firstUse`). Drops the zero series an instrument without labels makes
   * at construction: until used, the instrument shows nothing.
   */
  deferUntilUsed(fn: () => void): void {
    this.series.clear();
    this.firstUse = fn;
  }

  /** @internal Runs the deferred first-use function, once. */
  used(): void {
    const fn = this.firstUse;
    if (fn === undefined) return;
    this.firstUse = undefined;
    fn();
  }

  /** @internal Reports a dropped value (not a finite number, or a negative increment). */
  invalid(): void {
    this.hooks.onInvalid(this.name);
  }

  /**
   * @internal The series of `labels` when it is a series of its own: found, or created
   * while under the cap. `undefined` past the cap, without counting an
   * overflow: the caller then records through the labels (which counts it).
   * Also `undefined` when the label object does not fit the declared labels:
   * recording through them then reports and drops the observation.
   */
  ownSeries(labels: Readonly<Record<string, unknown>>): S | undefined {
    const key = this.keyOf(labels);
    if (key === undefined) return undefined;
    if (this.series.has(key) || this.series.size < this.cap) return this.seriesForKey(key, labels);
    return undefined;
  }

  /**
   * The series for a label object, created (or overflowed) on first use;
   * `undefined` (reported through `onLabelError`) when the object lacks a
   * declared label or has an unknown one: such an observation is dropped,
   * never recorded under empty label values.
   */
  protected seriesFor(labels: Readonly<Record<string, unknown>> | undefined): S | undefined {
    const src = labels ?? EMPTY;
    const key = this.keyOf(src);
    if (key === undefined) {
      this.hooks.onLabelError(this.name, this.labelProblem(src));
      return undefined;
    }
    const found = this.series.get(key);
    if (found !== undefined) return found;
    return this.seriesForKey(key, src);
  }

  /**
   * The series key of a label object: its values in declared order, joined;
   * `undefined` when a declared label is missing (undefined or null) or the
   * object has keys beyond the declared ones. The key count is one `for…in`
   * over a small literal (cheap next to building the key); the bound
   * recorders of the HTTP middleware skip this path altogether.
   */
  private keyOf(src: Readonly<Record<string, unknown>>): string | undefined {
    const names = this.labelNames;
    const n = names.length;
    let count = 0;
    for (const _ in src) count++;
    if (count !== n) return undefined;
    if (n === 0) return '';
    const first = src[names[0]!];
    if (first === undefined || first === null) return undefined;
    let key = labelValue(first);
    for (let i = 1; i < n; i++) {
      const raw = src[names[i]!];
      if (raw === undefined || raw === null) return undefined;
      key += SEP + labelValue(raw);
    }
    return key;
  }

  /** What is wrong with a label object, by label name only (values may hold anything). */
  private labelProblem(src: Readonly<Record<string, unknown>>): string {
    const declared = new Set(this.labelNames);
    const missing = this.labelNames.filter((l) => src[l] === undefined || src[l] === null);
    const unknown: string[] = [];
    for (const k in src)
      if (!declared.has(k)) unknown.push(k.length > 40 ? `${k.slice(0, 40)}…` : k);
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
    if (unknown.length > 0) parts.push(`unknown ${unknown.slice(0, 10).join(', ')}`);
    const takes =
      this.labelNames.length === 0 ? 'no labels' : `labels ${this.labelNames.join(', ')}`;
    return `${parts.join('; ')} (it takes ${takes})`;
  }

  private seriesForKey(key: string, src: Readonly<Record<string, unknown>> | undefined): S {
    const found = this.series.get(key);
    if (found !== undefined) return found;
    const scrubbed = this.scrubbed(src);
    if (scrubbed !== undefined) {
      // Never stored under the raw key: each secret-laden call scrubs again
      // (and is counted), and no secret is kept in memory as a map key.
      // Same label names as `src`, which fitted: never undefined.
      return this.seriesFor(scrubbed)!;
    }
    const names = this.labelNames;
    if (this.series.size < this.cap) {
      const labels: Record<string, string> = {};
      for (const name of names) labels[name] = labelValue(src?.[name]);
      const s = this.create(Object.freeze(labels));
      this.series.set(key, s);
      if (this.firstUse !== undefined) this.used();
      return s;
    }
    this.overflowCount++;
    this.hooks.onOverflow(this.name);
    // Overflow series: bounded labels keep their value so that ratios such as
    // 5xx / total stay exact; every other label collapses to one value.
    // Past cap + OVERFLOW_SERIES_MAX even bounded labels collapse, so a caller
    // passing arbitrary strings as a "bounded" label still cannot grow memory.
    const keepBounded = this.series.size < this.cap + OVERFLOW_SERIES_MAX;
    const labels: Record<string, string> = {};
    let okey = '\u0002';
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const v = keepBounded && this.keep[i] ? labelValue(src?.[name]) : OVERFLOW_LABEL_VALUE;
      labels[name] = v;
      okey += SEP + v;
    }
    const existing = this.series.get(okey);
    if (existing !== undefined) return existing;
    const s = this.create(Object.freeze(labels));
    this.series.set(okey, s);
    return s;
  }

  /**
   * The labels with every value the scrubber changes replaced by
   * {@link REDACTED_LABEL_VALUE}; `undefined` when none changes. Runs only
   * when a series is about to be created, never per observation of an
   * existing series.
   */
  private scrubbed(
    src: Readonly<Record<string, unknown>> | undefined,
  ): Record<string, unknown> | undefined {
    const scrub = this.hooks.scrubLabel;
    if (scrub === undefined || src === undefined) return undefined;
    let out: Record<string, unknown> | undefined;
    for (const name of this.labelNames) {
      const raw = src[name];
      // The whole string, before labelValue's cut: a secret across the cut
      // is still recognised.
      const v = typeof raw === 'string' ? raw : labelValue(raw);
      if (v === REDACTED_LABEL_VALUE || scrub(v) === v) continue;
      out ??= { ...src };
      out[name] = REDACTED_LABEL_VALUE;
      try {
        this.hooks.onRedacted?.(this.name);
      } catch {
        // A failing counter must not cost the observation.
      }
    }
    return out;
  }

  /** Removes one series, e.g. a queue that no longer exists. */
  remove(labels: Readonly<Record<string, unknown>>): void {
    const key = this.keyOf(labels);
    if (key !== undefined && this.series.delete(key)) this.epochCount++;
  }

  /** Drops every series. */
  reset(): void {
    this.series.clear();
    this.epochCount++;
  }

  /** Every series, for exposition. */
  allSeries(): IterableIterator<S> {
    return this.series.values();
  }
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * One label combination of an instrument, resolved once, for a caller that
 * records into it again and again (the HTTP middleware, per route, method and
 * status): no key built, no map lookup per observation. It re-resolves when
 * the instrument dropped series since (`reset`, `remove`), so nothing is
 * ever recorded into a series that is no longer exposed.
 *
 * Only made for a combination with a series of its own (the instruments'
 * `bind` returns `undefined` past the cap): a bound series never hides an
 * overflow. The instruments' recorders extend it.
 */
export abstract class BoundSeries<S extends SeriesBase, M extends GuardedMetric<S>> {
  private current: S;
  private epoch: number;

  protected constructor(
    protected readonly metric: M,
    series: S,
  ) {
    this.current = series;
    this.epoch = metric.epoch;
  }

  /**
   * The series to record into; `undefined` when it was dropped and its labels
   * now overflow (record through {@link labels} then, which counts it).
   */
  protected series(): S | undefined {
    if (this.epoch === this.metric.epoch) return this.current;
    const s = this.metric.ownSeries(this.current.labels);
    if (s === undefined) return undefined;
    this.current = s;
    this.epoch = this.metric.epoch;
    return s;
  }

  /** The label values of the combination. */
  protected get labels(): SeriesLabels {
    return this.current.labels;
  }
}
