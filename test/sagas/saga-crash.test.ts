import { testDatabase, type TestDatabase } from '../support/database';
import { sagasUnderProcessCrashes } from './saga-crash-run';

// CI size; `npm run soak:sagas` runs 100 sagas and 5 kills.
const SAGAS = 20;
const KILLS = 2;

describe('the saga orchestrator and the participants, each in a process, SIGKILLed at random points during concurrent sagas', () => {
  let db: TestDatabase;

  beforeAll(() => {
    db = testDatabase('sagacrash');
  });
  afterAll(async () => {
    await db.drop();
  });

  jest.setTimeout(400_000);

  it(`${SAGAS} sagas, ${KILLS} kills (orchestrator, then participants) and restarts: every saga ends, every participant holds what the completed ones reserved, no command applied twice`, async () => {
    const outcome = await sagasUnderProcessCrashes({ connectionString: db.connectionString, schema: db.schema, sagas: SAGAS, kills: KILLS, settleMs: 120_000 });
    console.log(`saga crash run: ${JSON.stringify(outcome)}`);
    expect(outcome.violations).toEqual([]);
    expect(outcome.completed + outcome.rolledBack).toBe(SAGAS);
    // The kills landed mid-work: each came after some decisions, and left sagas running.
    expect(outcome.kills).toHaveLength(KILLS);
    expect(outcome.kills.map((kill) => kill.killed)).toEqual([['orchestrator'], ['participants']]);
    for (const kill of outcome.kills) expect(kill.decisionsBeforeKill).toBeGreaterThan(0);
    expect(outcome.kills.some((kill) => kill.sagasRunningAtKill > 0)).toBe(true);
    // Both endings happened, and compensations ran after a failure at a later step.
    expect(outcome.completed).toBeGreaterThan(0);
    expect(outcome.rolledBackAt.scheduleDelivery).toBeGreaterThan(0);
  });
});
