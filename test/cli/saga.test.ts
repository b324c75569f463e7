import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { serverFixture, type ServerFixture } from '../server/server-fixture';

const REPO_ROOT = resolve(__dirname, '../..');
const CLI = ['-r', 'ts-node/register/transpile-only', 'cli/cli.ts'];
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !['EVENTUATE_URL', 'EVENTUATE_API_KEY'].includes(name)));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...CLI, ...args], { cwd: REPO_ROOT, env: BASE_ENV });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const command = (step: string, commandId: string, participantId: string, commandType: string) => ({ step, commandId, participantType: 'Hotel', participantId, commandType, command: { tripId: 't-1' } });

describe('eventuate-local saga against a running server', () => {
  let server: ServerFixture;
  const sagaType = `TripSaga${Date.now().toString(36)}`;
  const stalledDueAt = new Date(Date.now() - 60_000).toISOString();

  beforeAll(async () => {
    server = await serverFixture();
    // A saga instance's stream as the orchestrator writes it, one decision per append (so each has its own time).
    const decisions = [
      [{ eventType: 'SagaStarted', eventData: { data: { tripId: 't-1' } } }, { eventType: 'SagaStepRequested', eventData: command('bookHotel', 'c-1', 'h-1', 'BookRoom') }],
      [{ eventType: 'SagaStepSucceeded', eventData: { step: 'bookHotel', commandId: 'c-1', replyEventId: 'r-1', replyEventType: 'RoomBooked', data: {} } }, { eventType: 'SagaStepRequested', eventData: { ...command('rentCar', 'c-2', 'k-1', 'RentCar'), participantType: 'CarRental' } }],
      [
        { eventType: 'SagaStepFailed', eventData: { step: 'rentCar', commandId: 'c-2', reason: 'CarRental refused RentCar: NoCarAvailableError: no car left', data: {}, replyEventId: 'r-2', replyEventType: 'SagaCommandFailed' } },
        { eventType: 'SagaCompensationRequested', eventData: { ...command('bookHotel', 'c-3', 'h-1', 'CancelRoom'), compensates: 'c-1', attempt: 1 } },
      ],
      [
        { eventType: 'SagaCompensationDone', eventData: { step: 'bookHotel', commandId: 'c-3', replyEventId: 'r-3', replyEventType: 'RoomCancelled' } },
        { eventType: 'SagaRolledBack', eventData: { data: {}, failedStep: 'rentCar', reason: 'CarRental refused RentCar: NoCarAvailableError: no car left' } },
      ],
    ];
    const [first, ...rest] = decisions;
    await server.store.create({ entityType: sagaType, entityId: 's-1', events: first });
    let version = first.length;
    for (const events of rest) {
      await new Promise((r) => setTimeout(r, 20));
      await server.store.append({ entityType: sagaType, entityId: 's-1', expectedVersion: version, events });
      version += events.length;
    }
    // A saga that waits on a deadline due a minute ago, which no scheduler fired.
    await server.store.create({
      entityType: sagaType,
      entityId: 's-stalled',
      events: [
        { eventType: 'SagaStarted', eventData: { data: { tripId: 't-2' } } },
        { eventType: 'SagaStepRequested', eventData: command('bookHotel', 'c-9', 'h-1', 'BookRoom') },
        { eventType: 'DeadlineScheduled', eventData: { deadlineId: 'd-9', name: 'saga step bookHotel', dueAt: stalledDueAt, payload: { step: 'bookHotel', commandId: 'c-9', ms: 1000 } } },
      ],
    });
    await server.store.create({ entityType: sagaType, entityId: 'not-a-saga', events: [{ eventType: 'AccountOpened', eventData: {} }] });
  });
  afterAll(() => server.close());

  it('prints the timeline: steps, the participants commands went to and replies came from, how long each took, and the ending', async () => {
    const { code, stdout } = await cli(['saga', sagaType, 's-1', '--url', server.url]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${sagaType} s-1: rolled back, 8 events over \\d+ ms, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`));
    const cells = lines.slice(1).map((line) => line.trim().split(/ {2,}/));
    expect(cells.map((c) => c[0])).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']);
    expect(cells[1]).toEqual(['v2', expect.stringMatching(/^\+\d+ ms$/), 'bookHotel', 'action sent', '→ Hotel h-1', 'BookRoom {"tripId":"t-1"}']);
    expect(cells[2]).toEqual(['v3', expect.stringMatching(/^\+\d+ ms$/), 'bookHotel', 'succeeded', '← Hotel h-1', expect.stringMatching(/^in \d+ ms$/), 'RoomBooked']);
    expect(Number(/^in (\d+) ms$/.exec(cells[2][5])![1])).toBeGreaterThanOrEqual(15);
    expect(cells[4]).toEqual(['v5', expect.any(String), 'rentCar', 'failed', '← CarRental k-1', expect.stringMatching(/^in \d+ ms$/), 'CarRental refused RentCar: NoCarAvailableError: no car left']);
    expect(cells[5].slice(2)).toEqual(['bookHotel', 'compensation sent', '→ Hotel h-1', 'CancelRoom {"tripId":"t-1"}']);
    expect(cells[6].slice(2, 5)).toEqual(['bookHotel', 'compensated', '← Hotel h-1']);
    expect(cells[7].slice(2)).toEqual(['rentCar', 'rolled back', 'CarRental refused RentCar: NoCarAvailableError: no car left']);
  });

  it('ends with the deadlines the saga waits on: due when, overdue by how long, and the fix when long overdue', async () => {
    const { code, stdout } = await cli(['saga', sagaType, 's-stalled', '--url', server.url]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toContain(`${sagaType} s-stalled: running, 3 events`);
    expect(lines[3]).toMatch(/^ {2}v3 .*bookHotel {2}deadline set +due /);
    const waiting = new RegExp(`^waiting on bookHotel: its deadline d-9, due ${stalledDueAt.replace(/\./g, '\\.')}, overdue by (\\d+) s$`).exec(lines[4]);
    expect(waiting).not.toBeNull();
    // At least the minute it was due before the test began, at most the time since then (the machine may be slow).
    expect(Number(waiting![1])).toBeGreaterThanOrEqual(60);
    expect(Number(waiting![1])).toBeLessThanOrEqual(Math.ceil((Date.now() - Date.parse(stalledDueAt)) / 1000));
    expect(lines[5]).toContain(`no deadlineScheduler fires deadlines of entity type '${sagaType}'`);
    expect(lines[5]).toContain(`start one with entityTypes including '${sagaType}'`);
    const json = (await cli(['saga', sagaType, 's-stalled', '--url', server.url, '--json'])).stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(json[2].pendingDeadline).toMatchObject({ deadlineId: 'd-9', dueAt: stalledDueAt });
    expect(json[2].pendingDeadline.overdueMs).toBeGreaterThanOrEqual(60_000);
  });

  it('--json prints each timeline entry as one JSON line', async () => {
    const { code, stdout } = await cli(['saga', sagaType, 's-1', '--url', server.url, '--json']);
    expect(code).toBe(0);
    const entries = stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(entries).toHaveLength(8);
    expect(entries[2]).toMatchObject({ entityVersion: 3, step: 'bookHotel', what: 'succeeded', participant: { entityType: 'Hotel', entityId: 'h-1' }, replyEventId: 'r-1', detail: 'RoomBooked' });
    expect(entries[2].tookMs).toBeGreaterThanOrEqual(15);
  });

  it('refuses an entity that is not a saga instance, an unknown one, and bad arguments, saying which', async () => {
    const other = await cli(['saga', sagaType, 'not-a-saga', '--url', server.url]);
    expect(other.code).toBe(1);
    expect(other.stdout).toBe('');
    expect(other.stderr).toContain(`${sagaType} not-a-saga is not a saga instance: its history starts with AccountOpened, not SagaStarted`);
    const missing = await cli(['saga', sagaType, 'nobody', '--url', server.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('(entity_not_found)');
    const bad = await cli(['saga', sagaType, '--url', server.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('usage: eventuate-local saga');
  });
});
