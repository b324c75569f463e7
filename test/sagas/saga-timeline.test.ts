import type { StoredEvent } from '../../src/model';
import { sagaPendingDeadlines, sagaTimeline, sagaTimelineOutcome } from '../../client';

let version = 0;
function event(eventType: string, eventData: Record<string, any>, atMs: number): StoredEvent {
  version++;
  return { eventId: `e-${version}`, entityType: 'TripSaga', entityId: 's-1', entityVersion: version, eventType, eventData, metadata: {}, createdAt: new Date(Date.UTC(2026, 0, 1) + atMs).toISOString() };
}
const command = (step: string, commandId: string, type: string, id: string, commandType: string) => ({ step, commandId, participantType: type, participantId: id, commandType, command: { tripId: 't-1' } });

describe('sagaTimeline', () => {
  beforeEach(() => (version = 0));

  it('tells steps, replies with their durations, compensations with their attempts, and the ending', () => {
    const entries = sagaTimeline([
      event('SagaStarted', { data: { tripId: 't-1' } }, 0),
      event('SagaStepRequested', command('bookFlight', 'c-1', 'Flight', 'f-1', 'BookSeat'), 2),
      event('SagaStepSucceeded', { step: 'bookFlight', commandId: 'c-1', replyEventId: 'r-1', replyEventType: 'SeatBooked', data: {} }, 50),
      event('SagaStepSkipped', { step: 'insurance' }, 50),
      event('SagaStepRequested', command('rentCar', 'c-2', 'CarRental', 'k-1', 'RentCar'), 51),
      event('SagaStepFailed', { step: 'rentCar', commandId: 'c-2', reason: 'no car', data: {}, replyEventId: 'r-2', replyEventType: 'SagaCommandFailed' }, 81),
      event('SagaCompensationRequested', { ...command('bookFlight', 'c-3', 'Flight', 'f-1', 'CancelSeat'), compensates: 'c-1', attempt: 1 }, 82),
      event('SagaCompensationFailed', { step: 'bookFlight', commandId: 'c-3', attempt: 1, replyEventId: 'r-3', replyEventType: 'SagaCommandFailed', reason: 'Error: locked' }, 92),
      event('SagaCompensationRequested', { ...command('bookFlight', 'c-4', 'Flight', 'f-1', 'CancelSeat'), compensates: 'c-1', attempt: 2 }, 93),
      event('SagaCompensationDone', { step: 'bookFlight', commandId: 'c-4', replyEventId: 'r-4', replyEventType: 'SeatCancelled' }, 120),
      event('SagaRolledBack', { data: {}, failedStep: 'rentCar', reason: 'no car' }, 121),
    ]);
    expect(entries.map((e) => [e.entityVersion, e.sinceStartMs, e.step ?? '', e.what, e.participant?.entityId ?? '', e.tookMs ?? '', e.detail])).toEqual([
      [1, 0, '', 'started', '', '', '{"tripId":"t-1"}'],
      [2, 2, 'bookFlight', 'action sent', 'f-1', '', 'BookSeat {"tripId":"t-1"}'],
      [3, 50, 'bookFlight', 'succeeded', 'f-1', 48, 'SeatBooked'],
      [4, 50, 'insurance', 'skipped', '', '', 'its condition was false'],
      [5, 51, 'rentCar', 'action sent', 'k-1', '', 'RentCar {"tripId":"t-1"}'],
      [6, 81, 'rentCar', 'failed', 'k-1', 30, 'no car'],
      [7, 82, 'bookFlight', 'compensation sent', 'f-1', '', 'CancelSeat {"tripId":"t-1"}'],
      [8, 92, 'bookFlight', 'compensation failed (attempt 1)', 'f-1', 10, 'Error: locked'],
      [9, 93, 'bookFlight', 'compensation sent (attempt 2)', 'f-1', '', 'CancelSeat {"tripId":"t-1"}'],
      [10, 120, 'bookFlight', 'compensated', 'f-1', 27, 'SeatCancelled'],
      [11, 121, 'rentCar', 'rolled back', '', '', 'no car'],
    ]);
    expect(entries[2].replyEventId).toBe('r-1');
    expect(sagaTimelineOutcome(entries)).toBe('rolled back');
    expect(sagaTimelineOutcome(entries.slice(0, 6))).toBe('compensating');
    expect(sagaTimelineOutcome(entries.slice(0, 3))).toBe('running');
  });

  it('shows an event type it does not know as it is rather than leaving it out', () => {
    const entries = sagaTimeline([event('SagaStarted', { data: {} }, 0), event('SagaDeadlineSet', { step: 'bookFlight', dueAt: '2026-01-01T00:05:00Z' }, 5)]);
    expect(entries[1]).toMatchObject({ step: 'bookFlight', what: 'SagaDeadlineSet', detail: '{"step":"bookFlight","dueAt":"2026-01-01T00:05:00Z"}', sinceStartMs: 5 });
  });

  it('marks the deadlines the saga still waits on with their due time and how overdue they are at the time asked; fired, cancelled or the saga ended, none', () => {
    const due = Date.UTC(2026, 0, 1) + 1000;
    const scheduled = (deadlineId: string, payload: Record<string, unknown>, atMs: number) => event('DeadlineScheduled', { deadlineId, name: 'n', dueAt: new Date(due).toISOString(), payload }, atMs);
    const events = [
      event('SagaStarted', { data: {} }, 0),
      event('SagaStepRequested', command('bookFlight', 'c-1', 'Flight', 'f-1', 'BookSeat'), 1),
      scheduled('d-1', { step: 'bookFlight', commandId: 'c-1' }, 1),
      event('DeadlineCancelled', { deadlineId: 'd-1' }, 5),
      event('SagaStepRequested', command('rentCar', 'c-2', 'CarRental', 'k-1', 'RentCar'), 6),
      scheduled('d-2', { step: 'rentCar', commandId: 'c-2' }, 6),
    ];
    const at = (entries: ReturnType<typeof sagaTimeline>) => entries.filter((e) => e.eventType === 'DeadlineScheduled').map((e) => e.pendingDeadline);
    expect(at(sagaTimeline(events, due + 12_345))).toEqual([undefined, { deadlineId: 'd-2', dueAt: new Date(due).toISOString(), overdueMs: 12_345 }]);
    expect(at(sagaTimeline(events, due - 500))).toEqual([undefined, { deadlineId: 'd-2', dueAt: new Date(due).toISOString(), overdueMs: 0 }]);
    expect(at(sagaTimeline([...events, event('DeadlineFired', { deadlineId: 'd-2', name: 'n', dueAt: new Date(due).toISOString(), payload: {} }, 2000)], due + 5000))).toEqual([undefined, undefined]);
    expect(at(sagaTimeline([...events, event('SagaFailed', { data: {}, step: 'rentCar', error: 'x' }, 2000)], due + 5000))).toEqual([undefined, undefined]);
    const retry = [...events.slice(0, 2), scheduled('d-3', { kind: 'compensationRetry', step: 'bookFlight', compensates: 'c-1', attempt: 2 }, 3)];
    expect(sagaPendingDeadlines(retry, due + 1000)).toEqual([{ deadlineId: 'd-3', step: 'bookFlight', kind: 'compensationRetry', dueAt: new Date(due).toISOString(), overdueMs: 1000 }]);
  });
});
