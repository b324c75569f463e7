// @ts-check
import { h, notice } from '../dom.js';

/**
 * Reserved for sagas. The saga issue (#12) has not landed: there is no saga state on the server to
 * show yet, and this view shows none rather than inventing any.
 * @type {import('../main.js').View}
 */
export async function sagasView(root) {
  root.append(
    h('h1', {}, 'Sagas'),
    notice(
      'info',
      h('strong', {}, 'Not available yet. '),
      'The event store does not keep saga state yet (issue 12). When it does, this view will show each saga’s steps, replies, compensations and deadlines as a timeline.',
    ),
  );
}
