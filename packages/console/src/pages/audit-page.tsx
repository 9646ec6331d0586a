import { useState } from 'preact/hooks';
import { listAuditEvents, type AuditQuery } from '../api/audit';
import { AuditTable } from '../components/audit-table';
import { Field } from '../components/field';
import { formFields } from '../components/format';
import { Async, Empty } from '../components/status';
import { useAsync } from '../components/use-async';

const FAMILIES = ['key.*', 'admin.*', 'client.*', 'user.*', 'oauth.*', 'grant.*', 'token.*', 'ip.*', 'alert.*', 'webhook_endpoint.*', 'webhook_delivery.*', 'signing_key.*', 'ca.*', 'certificate.*', 'mtls.*', 'system.*'];

/** A datetime-local value (the browser's time zone) as RFC 3339, or nothing. */
function instant(value: string): string | undefined {
  return value ? new Date(value).toISOString() : undefined;
}

/** The audit log, every filter applied by the server, so each page is full and the pager walks the filtered log. */
export function AuditPage() {
  const [query, setQuery] = useState<AuditQuery>({});
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const [events] = useAsync(() => listAuditEvents({ ...query, cursor, limit: 100 }), [JSON.stringify(query), cursor]);

  const submit = (event: Event) => {
    const { text } = formFields(event);
    setCursors([]);
    setQuery({
      type: text('type') || undefined,
      keyId: text('keyId') || undefined,
      clientId: text('clientId') || undefined,
      userId: text('userId') || undefined,
      actorKeyId: text('actorKeyId') || undefined,
      outcome: (text('outcome') || undefined) as AuditQuery['outcome'],
      since: instant(text('since')),
      until: instant(text('until')),
    });
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
          <input id="audit-client" name="clientId" placeholder="cli_…" pattern="cli_[0-9A-Za-z]+" />
        </Field>
        <Field id="audit-user" label="User id">
          <input id="audit-user" name="userId" placeholder="usr_…" pattern="usr_[0-9A-Za-z]+" />
        </Field>
        <Field id="audit-actor-key" label="Acting admin key">
          <input id="audit-actor-key" name="actorKeyId" placeholder="key_…" pattern="key_[0-9A-Za-z]+" />
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
        <Field id="audit-until" label="Until">
          <input id="audit-until" name="until" type="datetime-local" />
        </Field>
        <button type="submit">Filter</button>
      </form>
      <Async state={events} what="audit events">
        {(page) => {
          return (
            <>
              {page.data.length === 0 ? <Empty>No event matches these filters.</Empty> : <AuditTable events={page.data} caption="Audit events" />}
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
