import { useState } from 'preact/hooks';
import { listAuditEvents, type AuditQuery } from '../api/audit';
import type { AuditEvent } from '../api/types';
import { AuditTable } from '../components/audit-table';
import { Field } from '../components/field';
import { formFields } from '../components/format';
import { Async, Empty } from '../components/status';
import { useAsync } from '../components/use-async';

const FAMILIES = ['key.*', 'admin.*', 'client.*', 'user.*', 'oauth.*', 'grant.*', 'token.*', 'ip.*', 'alert.*', 'webhook_endpoint.*', 'webhook_delivery.*', 'signing_key.*', 'ca.*', 'certificate.*', 'mtls.*', 'system.*'];

interface LocalFilters {
  outcome: '' | 'success' | 'failure';
  client: string;
  user: string;
}

/** Whether an event mentions an id anywhere (its details name the client or user it concerns). */
function mentions(event: AuditEvent, id: string): boolean {
  return JSON.stringify(event).includes(id);
}

/**
 * The audit log. Type, key and time are filtered by the server; outcome, client and user filter the events
 * loaded (the audit API has no such parameters), page by page.
 */
export function AuditPage() {
  const [query, setQuery] = useState<AuditQuery>({});
  const [local, setLocal] = useState<LocalFilters>({ outcome: '', client: '', user: '' });
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const [events] = useAsync(() => listAuditEvents({ ...query, cursor, limit: 100 }), [JSON.stringify(query), cursor]);

  const submit = (event: Event) => {
    const { text } = formFields(event);
    setCursors([]);
    setQuery({
      type: text('type') || undefined,
      keyId: text('keyId') || undefined,
      since: text('since') ? new Date(text('since')).toISOString() : undefined,
    });
    setLocal({ outcome: text('outcome') as LocalFilters['outcome'], client: text('client'), user: text('user') });
  };

  return (
    <>
      <h1>Audit log</h1>
      <form class="filters" role="search" aria-label="Filter the audit log" onSubmit={submit}>
        <Field id="audit-type" label="Type">
          <input id="audit-type" name="type" list="audit-types" placeholder="key.* or key.revoked" />
          <datalist id="audit-types">
            {FAMILIES.map((family) => (
              <option key={family} value={family} />
            ))}
          </datalist>
        </Field>
        <Field id="audit-key" label="Key id">
          <input id="audit-key" name="keyId" placeholder="key_…" pattern="key_[0-9A-Za-z]+" />
        </Field>
        <Field id="audit-client" label="Client id">
          <input id="audit-client" name="client" placeholder="cli_…" />
        </Field>
        <Field id="audit-user" label="User id">
          <input id="audit-user" name="user" placeholder="usr_…" />
        </Field>
        <Field id="audit-outcome" label="Outcome">
          <select id="audit-outcome" name="outcome">
            <option value="">Any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
          </select>
        </Field>
        <Field id="audit-since" label="Since">
          <input id="audit-since" name="since" type="datetime-local" />
        </Field>
        <button type="submit">Filter</button>
      </form>
      <Async state={events} what="audit events">
        {(page) => {
          const shown = page.data.filter(
            (event) =>
              (!local.outcome || event.outcome === local.outcome) &&
              (!local.client || mentions(event, local.client)) &&
              (!local.user || mentions(event, local.user)),
          );
          return (
            <>
              {shown.length === 0 ? <Empty>No event matches these filters.</Empty> : <AuditTable events={shown} caption="Audit events" />}
              <div class="pager">
                {cursors.length > 0 && (
                  <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
                    Newer events
                  </button>
                )}
                {page.nextCursor && (
                  <button type="button" onClick={() => setCursors([...cursors, page.nextCursor!])}>
                    Older events
                  </button>
                )}
              </div>
            </>
          );
        }}
      </Async>
    </>
  );
}
