import type { AuditEvent } from '../api/types';
import { formatTime } from './format';
import { Table } from './layout';

/** Audit events as a table; a row's details open in place (a <details> element: keyboard and screen reader friendly). */
export function AuditTable({ events, caption }: { events: AuditEvent[]; caption: string }) {
  return (
    <Table caption={caption} columns={['When', 'Type', 'Outcome', 'Key', 'IP', 'Details']}>
      {events.map((event) => (
        <tr key={event.id} data-event-type={event.type}>
          <td>{formatTime(event.occurredAt)}</td>
          <td>
            <code>{event.type}</code>
          </td>
          <td>
            <span class={`status status-${event.outcome}`}>{event.outcome}</span>
            {event.reason && <span class="reason"> {event.reason}</span>}
          </td>
          <td>{event.keyPrefix ? <code>{event.keyPrefix}</code> : '—'}</td>
          <td>{event.ip ?? '—'}</td>
          <td>
            <details>
              <summary>Event {event.id}</summary>
              <dl class="event-detail">
                {Object.entries(event)
                  .filter(([name, value]) => name !== 'details' && value !== null)
                  .map(([name, value]) => (
                    <div key={name}>
                      <dt>{name}</dt>
                      <dd>{String(value)}</dd>
                    </div>
                  ))}
              </dl>
              {event.details && <pre>{JSON.stringify(event.details, null, 2)}</pre>}
            </details>
          </td>
        </tr>
      ))}
    </Table>
  );
}
