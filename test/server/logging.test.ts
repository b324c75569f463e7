import { createLogger } from '../../event-store-server/logging';

/** A stand-in for process.stdout that keeps what is written. */
function output(isTTY: boolean): NodeJS.WriteStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, written, write: (chunk: string) => written.push(chunk) > 0 } as unknown as NodeJS.WriteStream & { written: string[] };
}

describe('the server logger', () => {
  it('writes one readable line per record to a terminal, and JSON elsewhere, unless the format is given', () => {
    const terminal = output(true);
    createLogger({ level: 'info', output: terminal }).child({ component: 'relay' }).warn({ lag: 3 }, 'relay is behind');
    expect(terminal.written).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3}Z warn {2}relay is behind component=relay lag=3\n$/)]);

    const pipe = output(false);
    createLogger({ level: 'info', output: pipe }).info({ lag: 3 }, 'caught up');
    expect(JSON.parse(pipe.written.join(''))).toMatchObject({ level: 30, msg: 'caught up', lag: 3 });

    const forcedJson = output(true);
    createLogger({ level: 'info', format: 'json', output: forcedJson }).info('as JSON');
    expect(JSON.parse(forcedJson.written.join(''))).toMatchObject({ msg: 'as JSON' });
    const forcedText = output(false);
    createLogger({ level: 'info', format: 'text', output: forcedText }).info('as text');
    expect(forcedText.written).toEqual([expect.stringMatching(/ info {2}as text\n$/)]);
  });

  it('keeps below-level records out and an error stack under its line', () => {
    const terminal = output(true);
    const logger = createLogger({ level: 'warn', output: terminal });
    logger.info('not shown');
    logger.error({ err: new Error('disk full') }, 'write failed');
    expect(terminal.written).toHaveLength(1);
    const [head, ...stack] = terminal.written[0].trimEnd().split('\n');
    expect(head).toMatch(/ error write failed$/);
    expect(stack[0]).toBe('    Error: disk full');
    expect(stack.length).toBeGreaterThan(1);
    expect(stack.every((line) => line.startsWith('    '))).toBe(true);
  });
});
