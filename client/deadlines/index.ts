/** Durable deadlines: "this event at time T" for any entity, fired once by schedulers sharing a due-time index. */
export { deadlineScheduler, DeadlineIndexError, DeadlineScheduler } from './deadline-scheduler';
export type { DeadlineRow, DeadlineSchedulerOptions, ScheduleDeadline } from './deadline-scheduler';
export type { DeadlineStatus } from './deadline-index';
export { DeadlineCancelled, DeadlineFired, DeadlineScheduled } from './deadline-events';
