import { checkJsonText, isExactNumber, MAX_JSON_DEPTH } from '../../event-store-server/json-text';

const check = (text: string, maxDepth?: number) => checkJsonText(text, JSON.parse(text), maxDepth);

describe('isExactNumber', () => {
  it.each(['0', '-0', '1', '-17', '0.1', '1.5', '1.50', '1e2', '1E+2', '2.5e-3', '9007199254740991', '-9007199254740991', '0.30000000000000004', '123456789012345', '5e-324', '1.7976931348623157e308', '0.000000000000000000001'])(
    '%s is held exactly',
    (token) => expect(isExactNumber(token)).toBe(true),
  );

  it.each(['1e400', '-1e400', '1e-400', '9007199254740993', '18446744073709551616', '1.00000000000000001', '1369.6300000000001', '0.30000000000000000001', '123456789012345678901234567890'])(
    '%s is not',
    (token) => expect(isExactNumber(token)).toBe(false),
  );
});

describe('checkJsonText', () => {
  it('passes ordinary JSON, strings that look like numbers or structure included', () => {
    expect(check('{"a":1,"b":[1,2,{"c":"9007199254740993"}],"d":"{[\\"x\\":1e400]}","e":null,"f":true}')).toBeUndefined();
    expect(check('[]')).toBeUndefined();
    expect(check('"just a string with \\\\"')).toBeUndefined();
  });

  it('names the path of a number a double cannot hold, as a JSON pointer', () => {
    expect(check('{"events":[{"eventData":{"n":1}},{"eventData":{"big":9007199254740993}}]}')).toEqual({
      kind: 'inexact_number',
      path: '/events/1/eventData/big',
      token: '9007199254740993',
    });
    expect(check('{"a/b":{"c~d":[0, 1e400]}}')).toEqual({ kind: 'inexact_number', path: '/a~1b/c~0d/1', token: '1e400' });
    expect(check('{"k\\"ey":{"x":"s,:[","y":-1e-400}}')).toEqual({ kind: 'inexact_number', path: '/k"ey/y', token: '-1e-400' });
  });

  it('finds a repeated key, also one written with escapes, and names it', () => {
    expect(check('{"a":{"b":1,"c":2,"b":3}}')).toEqual({ kind: 'repeated_key', path: '/a/b' });
    expect(check('{"list":[{"x":1},{"x":1,"\\u0078":2}]}')).toEqual({ kind: 'repeated_key', path: '/list/1/x' });
    expect(check('{"a":1,"b":{"a":1}}')).toBeUndefined();
  });

  it(`refuses nesting deeper than the limit (${MAX_JSON_DEPTH} by default)`, () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    expect(check(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(check(nested(MAX_JSON_DEPTH + 1))).toEqual({ kind: 'too_deep' });
    expect(check('{"a":{"b":{"c":1}}}', 3)).toBeUndefined();
    expect(check('{"a":{"b":{"c":[1]}}}', 3)).toEqual({ kind: 'too_deep' });
    // Brackets inside strings do not count.
    expect(check(`{"s":"${'['.repeat(500)}"}`)).toBeUndefined();
  });
});
