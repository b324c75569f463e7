import { sagaTimeline, sagaTimelineOutcome, type SagaTimelineEntry } from '../../client/sagas/saga-timeline';
import { noDeadlineSchedulerFix } from '../../client/sagas/saga-pending-deadlines';
import type { StoredEvent } from '../../src/model';
import { shortened } from '../support/event-format';
import { parseCommandArgs, reportingErrors, SERVER_OPTIONS_HELP, serverConnection, serverOptions, serverStore, UsageError } from '../support/client-args';
import type { Command } from './command';

const USAGE = `usage: eventuate-local saga <sagaType> <sagaId> [--url URL] [--api-key KEY] [--json]

Prints an orchestrated saga's timeline, read from its instance's history: each step's command and the
participant it went to, the replies and how long each took, compensations, and how the saga ended;
then each deadline it still waits on, with its due time and how overdue it is.
<sagaType> is the saga's name (defineSaga's first argument), <sagaId> the instance's id.
--json prints each timeline entry as one JSON document per line.
${SERVER_OPTIONS_HELP}`;

const PAGE_SIZE = 1000;

/** Thrown for a stream that is not a saga instance's: printed as one line, exit code 1. */
class NotASagaError extends Error {}

export const command: Command = {
  description: "print a saga's steps, replies, compensations and timings from a running server (--json too)",
  run: async (args) => {
    try {
      return await reportingErrors(USAGE, async () => {
        const { values, positionals } = parseCommandArgs(args, serverOptions);
        if (values.help) {
          console.log(USAGE);
          return 0;
        }
        if (positionals.length !== 2) throw new UsageError('expected a saga type and a saga id');
        const [sagaType, sagaId] = positionals;
        const store = serverStore(serverConnection(values));
        const events: StoredEvent[] = [];
        for (let fromVersion: number | null = 1; fromVersion !== null; ) {
          const page = await store.history(sagaType, sagaId, { fromVersion, limit: PAGE_SIZE });
          events.push(...page.events);
          fromVersion = page.nextFromVersion;
        }
        // Every saga instance's stream starts with SagaStarted (its first append writes it): anything else is another entity.
        if (events[0]?.eventType !== 'SagaStarted') {
          throw new NotASagaError(`${sagaType} ${sagaId} is not a saga instance: its history starts with ${events[0]?.eventType ?? 'nothing'}, not SagaStarted (see it with: eventuate-local history ${sagaType} ${sagaId})`);
        }
        const timeline = sagaTimeline(events);
        if (values.json) {
          for (const entry of timeline) console.log(JSON.stringify(entry));
        } else {
          const last = timeline[timeline.length - 1];
          console.log(`${sagaType} ${sagaId}: ${sagaTimelineOutcome(timeline)}, ${timeline.length} events over ${last.sinceStartMs} ms, started ${timeline[0].createdAt}`);
          for (const line of timelineLines(timeline)) console.log(`  ${line}`);
          for (const line of pendingDeadlineLines(sagaType, timeline)) console.log(line);
        }
        return 0;
      });
    } catch (err) {
      if (!(err instanceof NotASagaError)) throw err;
      console.error(`eventuate-local: ${err.message}`);
      return 1;
    }
  },
};

/** Past due by more than this, a deadline is not just waiting for a scheduler's next poll: the fix is named. */
const STALLED_AFTER_MS = 30_000;

/** The deadlines the saga waits on: due in N s, or overdue by N s (and, long overdue, what to do). */
function pendingDeadlineLines(sagaType: string, timeline: SagaTimelineEntry[]): string[] {
  return timeline.flatMap(({ pendingDeadline: pending, step, what }) => {
    if (pending === undefined) return [];
    const dueMs = Date.parse(pending.dueAt) - Date.now();
    const when = pending.overdueMs > 0 ? `overdue by ${seconds(pending.overdueMs)} s` : `due in ${seconds(dueMs)} s`;
    const line = `waiting on ${step === undefined ? '' : `${step}: `}${what === 'deadline set' ? 'its deadline' : 'its compensation retry'} ${pending.deadlineId}, due ${pending.dueAt}, ${when}`;
    return pending.overdueMs > STALLED_AFTER_MS ? [line, `  ${noDeadlineSchedulerFix(sagaType)}`] : [line];
  });
}

function seconds(ms: number): number {
  return Math.round(Math.max(0, ms) / 1000);
}

const COMMANDS = new Set(['SagaStepRequested', 'SagaCompensationRequested']);

/** One aligned line per entry: version, ms since the start, step, what, the participant (→ a command to it, ← its reply), the reply's time, detail. */
function timelineLines(timeline: SagaTimelineEntry[]): string[] {
  const rows = timeline.map((e) => {
    const arrow = COMMANDS.has(e.eventType) ? '→ ' : '← ';
    return [
      `v${e.entityVersion}`,
      `+${e.sinceStartMs} ms`,
      e.step ?? '',
      e.what,
      e.participant ? `${arrow}${e.participant.entityType} ${e.participant.entityId}` : '',
      e.tookMs === undefined ? '' : `in ${e.tookMs} ms`,
      shortened(e.detail),
    ];
  });
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => (c === 1 ? cell.padStart(widths[c]) : c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd());
}
