// @ts-check
import { api } from '../api.js';
import { h, notice, viewLink } from '../dom.js';
import { SAGA_STARTED } from '../saga-timeline.js';

const PROBES_AT_ONCE = 8;

/**
 * The saga types of the store with their instance and event counts. A type is a saga's when its
 * entities' streams start with SagaStarted, which the orchestrator always writes first: the store
 * knows sagas by what they wrote, not by a naming rule a user's type could follow by chance. So
 * each type is probed once (its first entity's first event), a few at a time.
 * @type {import('../main.js').View}
 */
export async function sagasView(root) {
  const types = await api.types();
  const sagaTypes = [];
  for (let i = 0; i < types.length; i += PROBES_AT_ONCE) {
    const batch = types.slice(i, i + PROBES_AT_ONCE);
    const isSaga = await Promise.all(batch.map((t) => startsWithSagaStarted(t.entityType)));
    sagaTypes.push(...batch.filter((_, j) => isSaga[j]));
  }
  root.append(h('h1', {}, 'Sagas'));
  if (sagaTypes.length === 0) {
    root.append(
      notice('info', `None of the ${types.length} entity types is a saga's. An orchestrated saga's instances are entities whose streams start with ${SAGA_STARTED}; they appear here once one has started.`),
    );
    return;
  }
  root.append(
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'Saga'), h('th', { class: 'num' }, 'Instances'), h('th', { class: 'num' }, 'Events'))),
        h(
          'tbody',
          {},
          ...sagaTypes.map((t) =>
            h(
              'tr',
              {},
              h('td', {}, viewLink(['sagas', t.entityType], t.entityType)),
              h('td', { class: 'num' }, t.entityCount.toLocaleString('en')),
              h('td', { class: 'num' }, t.eventCount.toLocaleString('en')),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * Whether the type's first entity begins with SagaStarted.
 * @param {string} type
 */
export async function startsWithSagaStarted(type) {
  const { entities } = await api.entities(type, { limit: 1 });
  if (entities.length === 0) return false;
  const page = await api.history(type, entities[0].entityId, { fromVersion: 1, limit: 1 });
  return page.events[0]?.eventType === SAGA_STARTED;
}
