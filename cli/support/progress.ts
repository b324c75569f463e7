import type { RebuildProgress } from '../../client/projections/projection-rebuild';

/**
 * Prints a rebuild's progress: on a terminal one line rewritten in place; elsewhere (a log, CI) a
 * line at each phase and at most every `everyMs` while replaying.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stdout, everyMs = 5000): (progress: RebuildProgress) => void {
  let lastPrinted = 0;
  let lastPhase: RebuildProgress['phase'] | undefined;
  return (progress) => {
    const line = describeProgress(progress);
    if (stream.isTTY) {
      stream.write(`\r\x1b[K${line}${progress.phase === 'done' ? '\n' : ''}`);
      return;
    }
    const now = Date.now();
    if (progress.phase === lastPhase && now - lastPrinted < everyMs) return;
    lastPrinted = now;
    lastPhase = progress.phase;
    stream.write(`${line}\n`);
  };
}

export function describeProgress({ phase, events, total, eventsPerSecond, etaSeconds }: RebuildProgress): string {
  const count = total !== undefined ? `${events.toLocaleString('en')} / ${total.toLocaleString('en')} events (${total > 0 ? Math.min(100, Math.floor((events / total) * 100)) : 100}%)` : `${events.toLocaleString('en')} events`;
  const rate = `${Math.round(eventsPerSecond).toLocaleString('en')} events/s`;
  const eta = phase === 'replaying' && etaSeconds !== undefined ? `, about ${formatSeconds(etaSeconds)} left` : '';
  return `${phase.padEnd(9)} ${count}, ${rate}${eta}`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
