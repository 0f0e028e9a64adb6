import { describe, expect, it } from 'vitest';
import {
  isValidTraceStateKey,
  isValidTraceStateValue,
  parseTraceState,
  TRACESTATE_MAX_INPUT_LENGTH,
  TraceStateList,
} from '../../src/tracing/index.js';

type Entries = Array<[string, string]>;

/** `n` members `m00=0,m01=1,…`. */
const members = (n: number): string =>
  Array.from({ length: n }, (_, i) => `m${String(i).padStart(2, '0')}=${i}`).join(',');
const membersEntries = (n: number): Entries =>
  Array.from({ length: n }, (_, i) => [`m${String(i).padStart(2, '0')}`, String(i)]);

// All characters the grammar allows (W3C suite test_tracestate_all_allowed_characters).
const KEY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/';
const VALUE_CHARS = [
  [0x20, 0x2b],
  [0x2d, 0x3c],
  [0x3e, 0x7e],
]
  .map(([from, to]) =>
    Array.from({ length: to! - from! + 1 }, (_, i) => String.fromCharCode(from! + i)).join(''),
  )
  .join('');

/**
 * [description, input, expected entries (front first) and serialization, or
 * undefined for a header that must not be propagated]
 */
const cases: Array<[string, unknown, { entries: Entries; serialized: string } | undefined]> = [
  // valid
  [
    'single member',
    'rojo=00f067aa0ba902b7',
    { entries: [['rojo', '00f067aa0ba902b7']], serialized: 'rojo=00f067aa0ba902b7' },
  ],
  [
    'two members keep their order',
    'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    {
      entries: [
        ['rojo', '00f067aa0ba902b7'],
        ['congo', 't61rcWkgMzE'],
      ],
      serialized: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    },
  ],
  ['empty header', '', { entries: [], serialized: '' }],
  ['whitespace-only header', ' \t ', { entries: [], serialized: '' }],
  ['only commas', ',,,', { entries: [], serialized: '' }],
  ['leading empty member', ',foo=1', { entries: [['foo', '1']], serialized: 'foo=1' }],
  ['trailing empty member', 'foo=1,', { entries: [['foo', '1']], serialized: 'foo=1' }],
  [
    'empty member in the middle',
    'foo=1,,bar=2',
    {
      entries: [
        ['foo', '1'],
        ['bar', '2'],
      ],
      serialized: 'foo=1,bar=2',
    },
  ],
  [
    'whitespace-only member',
    'foo=1, \t ,bar=2',
    {
      entries: [
        ['foo', '1'],
        ['bar', '2'],
      ],
      serialized: 'foo=1,bar=2',
    },
  ],
  [
    'OWS around commas (spaces and tabs)',
    'foo=1 \t , \t bar=2, \t baz=3',
    {
      entries: [
        ['foo', '1'],
        ['bar', '2'],
        ['baz', '3'],
      ],
      serialized: 'foo=1,bar=2,baz=3',
    },
  ],
  [
    'OWS of tabs and spaces',
    'foo=1\t \t,\t \tbar=2,\t \tbaz=3',
    {
      entries: [
        ['foo', '1'],
        ['bar', '2'],
        ['baz', '3'],
      ],
      serialized: 'foo=1,bar=2,baz=3',
    },
  ],
  ['leading space', ' foo=1', { entries: [['foo', '1']], serialized: 'foo=1' }],
  ['leading tab', '\tfoo=1', { entries: [['foo', '1']], serialized: 'foo=1' }],
  ['trailing space is OWS, not value', 'foo=1 ', { entries: [['foo', '1']], serialized: 'foo=1' }],
  ['trailing tab', 'foo=1\t', { entries: [['foo', '1']], serialized: 'foo=1' }],
  ['OWS both sides', '\t foo=1 \t', { entries: [['foo', '1']], serialized: 'foo=1' }],
  ['value keeps its leading space', 'foo= 1', { entries: [['foo', ' 1']], serialized: 'foo= 1' }],
  ['space inside a value', 'foo=a b', { entries: [['foo', 'a b']], serialized: 'foo=a b' }],
  [
    'every allowed key character',
    `${KEY_CHARS}=1`,
    { entries: [[KEY_CHARS, '1']], serialized: `${KEY_CHARS}=1` },
  ],
  [
    'every allowed value character',
    `foo=${VALUE_CHARS}`,
    { entries: [['foo', VALUE_CHARS]], serialized: `foo=${VALUE_CHARS}` },
  ],
  [
    'multi-tenant key',
    'tenant@vendor=x',
    { entries: [['tenant@vendor', 'x']], serialized: 'tenant@vendor=x' },
  ],
  [
    'tenant-id may start with a digit',
    '1tenant@vendor=x',
    { entries: [['1tenant@vendor', 'x']], serialized: '1tenant@vendor=x' },
  ],
  [
    'multi-tenant key with all key chars',
    `${KEY_CHARS}@a-z0-9_-*/=1`,
    { entries: [[`${KEY_CHARS}@a-z0-9_-*/`, '1']], serialized: `${KEY_CHARS}@a-z0-9_-*/=1` },
  ],
  [
    'key of 256 chars',
    `${'z'.repeat(256)}=1`,
    { entries: [['z'.repeat(256), '1']], serialized: `${'z'.repeat(256)}=1` },
  ],
  [
    'tenant-id 241 + system-id 14 chars',
    `${'t'.repeat(241)}@${'v'.repeat(14)}=1`,
    {
      entries: [[`${'t'.repeat(241)}@${'v'.repeat(14)}`, '1']],
      serialized: `${'t'.repeat(241)}@${'v'.repeat(14)}=1`,
    },
  ],
  [
    'value of 256 chars',
    `k=${'v'.repeat(256)}`,
    { entries: [['k', 'v'.repeat(256)]], serialized: `k=${'v'.repeat(256)}` },
  ],
  [
    'value of 256 chars plus trailing OWS',
    `k=${'v'.repeat(256)}  `,
    { entries: [['k', 'v'.repeat(256)]], serialized: `k=${'v'.repeat(256)}` },
  ],
  ['32 members', members(32), { entries: membersEntries(32), serialized: members(32) }],
  [
    '32 members and empty ones',
    `,${members(32)},,`,
    { entries: membersEntries(32), serialized: members(32) },
  ],
  [
    'the same value under two keys',
    'a=1,b=1',
    {
      entries: [
        ['a', '1'],
        ['b', '1'],
      ],
      serialized: 'a=1,b=1',
    },
  ],

  // Level 2: duplicate keys keep the first occurrence, the rest of the list stays
  ['duplicate key, same value', 'foo=1,foo=1', { entries: [['foo', '1']], serialized: 'foo=1' }],
  [
    'duplicate key, different value',
    'foo=1,foo=2',
    { entries: [['foo', '1']], serialized: 'foo=1' },
  ],
  [
    'duplicate key hidden by OWS',
    'foo=1 , foo=2',
    { entries: [['foo', '1']], serialized: 'foo=1' },
  ],
  [
    'duplicate multi-tenant key',
    'a@b=1,c=2,a@b=3',
    {
      entries: [
        ['a@b', '1'],
        ['c', '2'],
      ],
      serialized: 'a@b=1,c=2',
    },
  ],
  [
    'duplicate of a later member',
    'x=0,foo=1,foo=2',
    {
      entries: [
        ['x', '0'],
        ['foo', '1'],
      ],
      serialized: 'x=0,foo=1',
    },
  ],
  [
    'duplicate multi-tenant key of a later member',
    'x=0,t@s=1,y=2,t@s=3',
    {
      entries: [
        ['x', '0'],
        ['t@s', '1'],
        ['y', '2'],
      ],
      serialized: 'x=0,t@s=1,y=2',
    },
  ],
  [
    'a key that starts like an earlier one is not a duplicate',
    'foo=1,foobar=2',
    {
      entries: [
        ['foo', '1'],
        ['foobar', '2'],
      ],
      serialized: 'foo=1,foobar=2',
    },
  ],
  [
    'a key that is the start of an earlier one is not a duplicate',
    'foobar=1,foo=2',
    {
      entries: [
        ['foobar', '1'],
        ['foo', '2'],
      ],
      serialized: 'foobar=1,foo=2',
    },
  ],
  [
    'a tenant key and the same tenant at a system are different keys',
    't=1,t@s=2,t@s2=3,t2@s=4',
    {
      entries: [
        ['t', '1'],
        ['t@s', '2'],
        ['t@s2', '3'],
        ['t2@s', '4'],
      ],
      serialized: 't=1,t@s=2,t@s2=3,t2@s=4',
    },
  ],
  [
    'a dropped duplicate does not count toward 32 members',
    `${members(32)},m00=again`,
    { entries: membersEntries(32), serialized: members(32) },
  ],
  // Level 2 keys: (lcalpha / DIGIT) 0*255(keychar), "@" a keychar
  ['key starting with a digit', '1abc=1', { entries: [['1abc', '1']], serialized: '1abc=1' }],
  ['key ending with @', 'foo@=1', { entries: [['foo@', '1']], serialized: 'foo@=1' }],
  [
    'two @ in a row',
    'foo@@bar=1,bar=2',
    {
      entries: [
        ['foo@@bar', '1'],
        ['bar', '2'],
      ],
      serialized: 'foo@@bar=1,bar=2',
    },
  ],
  ['two @', 'foo@bar@baz=1', { entries: [['foo@bar@baz', '1']], serialized: 'foo@bar@baz=1' }],
  [
    'key of 256 chars',
    `${'z'.repeat(256)}=1`,
    { entries: [['z'.repeat(256), '1']], serialized: `${'z'.repeat(256)}=1` },
  ],
  [
    'long tenant part (242 chars)',
    `${'t'.repeat(242)}@v=1`,
    { entries: [[`${'t'.repeat(242)}@v`, '1']], serialized: `${'t'.repeat(242)}@v=1` },
  ],
  [
    'long part after @ (15 chars)',
    `t@${'v'.repeat(15)}=1`,
    { entries: [[`t@${'v'.repeat(15)}`, '1']], serialized: `t@${'v'.repeat(15)}=1` },
  ],
  [
    'digit after @',
    'tenant@1vendor=1',
    { entries: [['tenant@1vendor', '1']], serialized: 'tenant@1vendor=1' },
  ],
  // invalid: count
  ['33 members', members(33), undefined],
  // invalid: keys
  ['uppercase key', 'FOO=1', undefined],
  ['one uppercase letter in the key', 'fOo=1', undefined],
  ['dot in the key', 'foo.bar=1', undefined],
  ['space before =', 'foo =1', undefined],
  ['simple key starting with _', '_abc=1', undefined],
  ['key of 257 chars', `${'z'.repeat(257)}=1`, undefined],
  ['key starting with @', '@foo=1,bar=2', undefined],
  ['key starting with -', '-foo=1', undefined],
  ['uppercase letter after @', 'tenant@Vendor=1', undefined],
  ['dot after @', 'tenant@ven.dor=1', undefined],
  ['dot before @', 'ten.ant@vendor=1', undefined],
  ['space around @', 'tenant @vendor=1', undefined],
  ['key character above z ({)', 'foo{=1', undefined],
  ['key character above z (~)', 'f~oo=1', undefined],
  ['key starting above z (|)', '|foo=1', undefined],
  ['non-ASCII letter in the key', 'café=1', undefined],
  ['key of 257 chars with @', `a@${'z'.repeat(255)}=1`, undefined],
  ['empty key', '=1', undefined],
  ['member without =', 'foo', undefined],
  // invalid: values
  ['value containing =', 'foo=bar=baz', undefined],
  ['empty value', 'foo=,bar=3', undefined],
  ['empty value at the end', 'foo=', undefined],
  ['value of 257 chars', `k=${'v'.repeat(257)}`, undefined],
  ['tab inside a value', 'foo=a\tb', undefined],
  ['newline inside a value', 'foo=a\nb', undefined],
  ['DEL inside a value', 'foo=a\u007fb', undefined],
  ['non-ASCII value', 'foo=café', undefined],
  ['one bad member invalidates the whole list', 'a=1,b=2,BAD=3', undefined],
  // invalid: not a usable string
  ['undefined', undefined, undefined],
  ['null', null, undefined],
  ['number', 42, undefined],
  ['array', ['a=1'], undefined],
  [
    'input of exactly the cap (a member and trailing OWS)',
    `a=1${' '.repeat(TRACESTATE_MAX_INPUT_LENGTH - 3)}`,
    { entries: [['a', '1']], serialized: 'a=1' },
  ],
  [
    'input one character over the cap',
    `a=1${' '.repeat(TRACESTATE_MAX_INPUT_LENGTH - 2)}`,
    undefined,
  ],
  ['a megabyte of garbage', '!'.repeat(1_000_000), undefined],
];

describe('parseTraceState conformance', () => {
  it('has a substantial table', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)('%s', (_name, input, expected) => {
    const list = parseTraceState(input);
    if (expected === undefined) {
      expect(list).toBeUndefined();
    } else {
      expect(list).toBeInstanceOf(TraceStateList);
      expect(list!.entries()).toEqual(expected.entries);
      expect(list!.size).toBe(expected.entries.length);
      expect(list!.serialize()).toBe(expected.serialized);
    }
  });
});

describe('TraceStateList', () => {
  it('passes a canonical header on as the very same string', () => {
    const header = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE';
    expect(parseTraceState(header)!.serialize()).toBe(header);
  });

  it('reads values with get', () => {
    const list = parseTraceState('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE')!;
    expect(list.get('congo')).toBe('t61rcWkgMzE');
    expect(list.get('rojo')).toBe('00f067aa0ba902b7');
    expect(list.get('absent')).toBeUndefined();
  });

  it('puts an added entry at the front (spec example: Rojo receives from Congo)', () => {
    const list = parseTraceState('congo=t61rcWkgMzE')!.set('rojo', '00f067aa0ba902b7');
    expect(list.serialize()).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });

  it('moves an updated entry to the front and keeps the others in order', () => {
    const list = parseTraceState('a=1,congo=t61rcWkgMzE,b=2')!.set('congo', 'ucfJifl5GOE');
    expect(list.serialize()).toBe('congo=ucfJifl5GOE,a=1,b=2');
  });

  it('updates the front entry in place', () => {
    const list = parseTraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')!;
    expect(list.set('congo', 'ucfJifl5GOE').serialize()).toBe(
      'congo=ucfJifl5GOE,rojo=00f067aa0ba902b7',
    );
  });

  it('adds a new key whose value is the same as the front entry', () => {
    const list = parseTraceState('rojo=00f067aa0ba902b7')!;
    expect(list.set('congo', '00f067aa0ba902b7').serialize()).toBe(
      'congo=00f067aa0ba902b7,rojo=00f067aa0ba902b7',
    );
  });

  it('set of the value the front entry already has changes nothing (the same list)', () => {
    for (const header of ['congo=t61rcWkgMzE,rojo=1', ' congo=t61rcWkgMzE , rojo=1 ']) {
      const list = parseTraceState(header)!;
      const same = list.set('congo', 't61rcWkgMzE');
      expect(same).toBe(list);
      expect(same.serialize()).toBe('congo=t61rcWkgMzE,rojo=1');
    }
  });

  it('set of the value a later entry already has moves it to the front (an update)', () => {
    const list = parseTraceState('rojo=1,congo=t61rcWkgMzE')!;
    expect(list.set('congo', 't61rcWkgMzE').serialize()).toBe('congo=t61rcWkgMzE,rojo=1');
  });

  it('set and unset leave the list they were called on as it was', () => {
    const lists = {
      'parsed canonical': parseTraceState('a=1,b=2,c=3')!,
      'parsed with OWS': parseTraceState(' a=1 , b=2 ,, c=3 ')!,
      built: new TraceStateList().set('c', '3').set('b', '2').set('a', '1'),
    };
    for (const [name, list] of Object.entries(lists)) {
      expect(list.unset('b').serialize(), name).toBe('a=1,c=3');
      expect(list.set('c', '4').serialize(), name).toBe('c=4,a=1,b=2');
      expect(list.unset('a').unset('c').serialize(), name).toBe('b=2');
      expect(list.entries(), name).toEqual([
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ]);
      expect(list.get('b'), name).toBe('2');
      expect(list.size, name).toBe(3);
      expect(list.serialize(), name).toBe('a=1,b=2,c=3');
    }
  });

  it('is immutable: set and unset return new lists', () => {
    const original = parseTraceState('a=1,b=2')!;
    const updated = original.set('c', '3');
    const removed = original.unset('a');
    expect(original.serialize()).toBe('a=1,b=2');
    expect(updated.serialize()).toBe('c=3,a=1,b=2');
    expect(removed.serialize()).toBe('b=2');
  });

  it('ignores an invalid key or value on set', () => {
    const list = parseTraceState('a=1')!;
    expect(list.set('Bad', 'x')).toBe(list);
    expect(list.set('ok', 'x=y')).toBe(list);
    expect(list.set('ok', '')).toBe(list);
    expect(list.set('ok', 'trailing ')).toBe(list);
  });

  it('drops the last entry when a 33rd is added', () => {
    const list = parseTraceState(members(32))!.set('new', 'x');
    expect(list.size).toBe(32);
    expect(list.entries()[0]).toEqual(['new', 'x']);
    expect(list.get('m31')).toBeUndefined();
    expect(list.get('m30')).toBe('30');
  });

  it('unset of an absent key returns the same list', () => {
    const list = parseTraceState('a=1')!;
    expect(list.unset('b')).toBe(list);
  });

  it('starts empty', () => {
    const list = new TraceStateList();
    expect(list.size).toBe(0);
    expect(list.serialize()).toBe('');
    expect(list.set('a', '1').serialize()).toBe('a=1');
  });

  describe('512-character limit on serialization', () => {
    const long = (key: string): string => `${key}=${'v'.repeat(200)}`; // 202 chars
    const short = (key: string): string => `${key}=${'s'.repeat(60)}`; // 62 chars

    it('keeps a list of exactly 512 characters', () => {
      const header = [long('a'), long('b'), `c=${'x'.repeat(104)}`].join(',');
      expect(header.length).toBe(512);
      expect(parseTraceState(header)!.serialize()).toBe(header);
    });

    it('removes entries over 128 characters first, from the end', () => {
      const header = [long('a'), short('b'), long('c'), short('d'), long('e')].join(',');
      const list = parseTraceState(header)!;
      expect(list.size).toBe(5);
      // 3 × 202 + 2 × 62 + 4 = 734: dropping e (→ 531) then c (→ 328) fits.
      expect(list.serialize()).toBe([long('a'), short('b'), short('d')].join(','));
      expect(list.get('e')).toBe('v'.repeat(200));
    });

    it('then removes entries from the end', () => {
      const header = Array.from({ length: 10 }, (_, i) => short(`k${i}`)).join(',');
      // 10 × 62 + 9 = 629; dropping k9 and k8 gives 8 × 62 + 7 = 503.
      expect(parseTraceState(header)!.serialize()).toBe(
        Array.from({ length: 8 }, (_, i) => short(`k${i}`)).join(','),
      );
    });

    /**
     * Boundary fixtures: `sized({ a: 100, b: 28 })` is the list `a=vvv…,b=vvv…` whose
     * entries are 100 and 28 characters long (`key=value`), 129 with the comma.
     */
    const sized = (lengths: Record<string, number>): string =>
      Object.entries(lengths)
        .map(([key, length]) => `${key}=${'v'.repeat(length - key.length - 1)}`)
        .join(',');
    const sent = (header: string): string => parseTraceState(header)!.serialize();

    it('keeps 512 characters of entries of 128 or less, commas included', () => {
      const header = sized({ a: 100, b: 100, c: 100, d: 100, e: 108 });
      expect(header.length).toBe(512);
      expect(sent(header)).toBe(header);
      // Also when the list is rebuilt (OWS removed, or an entry set).
      expect(sent(header.replaceAll(',', ' , '))).toBe(header);
      const a = parseTraceState(header)!.get('a')!;
      expect(parseTraceState(header)!.unset('a').set('a', a).serialize()).toBe(header);
    });

    it('drops the last entry of a list of 513 characters (the commas count)', () => {
      const header = sized({ a: 100, b: 100, c: 100, d: 100, e: 109 });
      expect(header.length).toBe(513);
      expect(sent(header)).toBe(sized({ a: 100, b: 100, c: 100, d: 100 }));
    });

    it('drops an entry over 128 characters first, even the first one', () => {
      const header = sized({ a: 200, b: 100, c: 100, d: 110 });
      expect(header.length).toBe(513);
      expect(sent(header)).toBe(sized({ b: 100, c: 100, d: 110 }));
    });

    it('drops no more long entries once the list fits in exactly 512', () => {
      const header = sized({ a: 200, b: 100, c: 100, d: 109, e: 150 });
      expect(header.length).toBe(663);
      const out = sent(header);
      expect(out).toBe(sized({ a: 200, b: 100, c: 100, d: 109 }));
      expect(out.length).toBe(512);
    });

    it('drops no more entries from the end once the list fits in exactly 512', () => {
      const header = sized({ a: 100, b: 100, c: 100, d: 100, e: 108, f: 50 });
      expect(header.length).toBe(563);
      const out = sent(header);
      expect(out).toBe(sized({ a: 100, b: 100, c: 100, d: 100, e: 108 }));
      expect(out.length).toBe(512);
    });

    it('counts an entry of 129 characters as over 128, one of 128 as not', () => {
      const header = sized({ a: 129, b: 128, c: 100, d: 100, e: 56 });
      expect(header.length).toBe(517);
      // Only `a` is larger than 128: it goes; `b` would only go by its position.
      expect(sent(header)).toBe(sized({ b: 128, c: 100, d: 100, e: 56 }));
    });

    it('then drops from the end, past the long entries already dropped', () => {
      const header = sized({ a: 110, b: 110, c: 110, d: 110, e: 110, f: 150 });
      // 705; without f (over 128) 554, still too long: e goes next (443).
      expect(header.length).toBe(705);
      expect(sent(header)).toBe(sized({ a: 110, b: 110, c: 110, d: 110 }));
    });

    it('keeps a service-added entry and truncates the tail instead', () => {
      const header = Array.from({ length: 8 }, (_, i) => short(`k${i}`)).join(','); // 503
      const mine = 'x'.repeat(20);
      const list = parseTraceState(header)!.set('mine', mine); // 503 + 26 = 529
      expect(list.serialize().startsWith(`mine=${mine},k0=`)).toBe(true);
      expect(list.serialize().length).toBeLessThanOrEqual(512);
      expect(list.serialize()).not.toContain('k7=');
    });
  });
});

describe('key and value validators', () => {
  it.each([
    ['congo', true],
    ['tenant@vendor', true],
    ['1tenant@v', true],
    ['1abc', true],
    ['a@', true],
    ['a@@b', true],
    ['z'.repeat(256), true],
    ['z'.repeat(257), false],
    ['@a', false],
    ['Congo', false],
    ['', false],
    [42, false],
  ])('isValidTraceStateKey(%j) is %s', (key, valid) => {
    expect(isValidTraceStateKey(key)).toBe(valid);
  });

  it.each([
    ['t61rcWkgMzE', true],
    [' leading', true],
    ['trailing ', false],
    ['a,b', false],
    ['a=b', false],
    ['', false],
    ['v'.repeat(257), false],
    [null, false],
  ])('isValidTraceStateValue(%j) is %s', (value, valid) => {
    expect(isValidTraceStateValue(value)).toBe(valid);
  });
});
