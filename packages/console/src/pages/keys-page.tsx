import { useState } from 'preact/hooks';
import { createKey, listKeys, type CreateKeyInput, type KeyFilters } from '../api/keys';
import type { ApiKey } from '../api/types';
import { Field } from '../components/field';
import { formFields, formatTime } from '../components/format';
import { Link } from '../components/link';
import { ScopePicker } from '../components/scope-picker';
import { SecretOnce } from '../components/secret-once';
import { Async, Empty } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';
import { navigate } from '../router';
import { FormActions, PageHeader, Table } from '../components/layout';

/** Keys: search and filter, create (the plaintext shown once), and a link to each key's page. */
export function KeysPage() {
  const [filters, setFilters] = useState<KeyFilters>({});
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const [keys, reload] = useAsync(() => listKeys({ ...filters, cursor, limit: 25 }), [JSON.stringify(filters), cursor]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ id: string; key: string } | null>(null);

  const onFilter = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = String(form.get('search') ?? '').trim();
    // A display prefix looks like sk_live_Ab12...; anything else is searched in names.
    const byPrefix = /^[a-z]+_(live|test)_/.test(text);
    setCursors([]);
    setFilters({
      ...(text ? (byPrefix ? { prefix: text } : { name: text }) : {}),
      tenantId: String(form.get('tenantId') ?? '').trim() || undefined,
      environment: (String(form.get('environment') ?? '') as KeyFilters['environment']) || undefined,
      status: (String(form.get('status') ?? '') as KeyFilters['status']) || undefined,
    });
  };

  return (
    <>
      <PageHeader title="API keys" action={!creating && !created ? { label: 'Create key', onClick: () => setCreating(true) } : null} />
      {created && (
        <SecretOnce
          label="Your new API key"
          secret={created.key}
          onDone={() => {
            const id = created.id;
            setCreated(null);
            navigate(`/keys/${id}`);
          }}
        />
      )}
      {creating && (
        <CreateKeyForm
          onCancel={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            setCreated({ id: key.id, key: key.key });
            reload();
          }}
        />
      )}
      <form class="filters" role="search" aria-label="Filter keys" onSubmit={onFilter}>
        <Field id="key-search" label="Name or prefix">
          <input id="key-search" name="search" type="search" placeholder="billing, sk_live_Ab12" />
        </Field>
        <Field id="key-tenant" label="Tenant">
          <input id="key-tenant" name="tenantId" />
        </Field>
        <Field id="key-environment" label="Environment">
          <select id="key-environment" name="environment">
            <option value="">Any</option>
            <option value="live">live</option>
            <option value="test">test</option>
          </select>
        </Field>
        <Field id="key-status" label="Status">
          <select id="key-status" name="status">
            <option value="">Any</option>
            <option value="active">active</option>
            <option value="expired">expired</option>
            <option value="revoked">revoked</option>
          </select>
        </Field>
        <button type="submit">Search</button>
      </form>
      <Async state={keys} what="keys">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>{Object.values(filters).some(Boolean) ? 'No key matches these filters.' : 'No API keys yet. Create the first one.'}</Empty>
          ) : (
            <>
              <KeyTable keys={page.data} />
              <div class="pager">
                {cursors.length > 0 && (
                  <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
                    Previous page
                  </button>
                )}
                {page.nextCursor && (
                  <button type="button" onClick={() => setCursors([...cursors, page.nextCursor!])}>
                    Next page
                  </button>
                )}
              </div>
            </>
          )
        }
      </Async>
    </>
  );
}

function KeyTable({ keys }: { keys: ApiKey[] }) {
  return (
    <Table caption="API keys" columns={['Name', 'Prefix', 'Status', 'Environment', 'Tenant', 'Last used', 'Created']}>
      {keys.map((key) => (
        <tr key={key.id}>
          <td>
            <Link to={`/keys/${key.id}`}>{key.name}</Link>
          </td>
          <td>
            <code>{key.prefix}</code>
          </td>
          <td>
            <span class={`status status-${key.status}`}>{key.status}</span>
          </td>
          <td>{key.environment}</td>
          <td>{key.tenantId ?? '—'}</td>
          <td>{formatTime(key.lastUsedAt)}</td>
          <td>{formatTime(key.createdAt)}</td>
        </tr>
      ))}
    </Table>
  );
}

/** Metadata typed as `name=value` lines. */
function parseMetadata(text: string): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`Metadata line "${line.trim()}" is not name=value.`);
    metadata[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return metadata;
}

function CreateKeyForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (key: { id: string; key: string }) => void }) {
  const [scopes, setScopes] = useState<string[]>([]);
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    const { text: value } = formFields(event);
    void run(async () => {
      const input: CreateKeyInput = { name: value('name'), environment: value('environment') as 'live' | 'test' };
      if (scopes.length > 0) input.scopes = scopes;
      if (value('tenantId')) input.tenantId = value('tenantId');
      if (value('expiresAt')) input.expiresAt = new Date(value('expiresAt')).toISOString();
      if (value('rateLimit')) input.rateLimit = { limit: Number(value('rateLimit')), windowSeconds: Number(value('rateWindow') || 60) };
      const metadata = parseMetadata(value('metadata'));
      if (Object.keys(metadata).length > 0) input.metadata = metadata;
      onCreated(await createKey(input));
    });
  };
  return (
    <form class="card form" aria-labelledby="create-key-title" onSubmit={submit}>
      <h2 id="create-key-title">Create an API key</h2>
      <Field id="new-key-name" label="Name">
        <input id="new-key-name" name="name" required maxLength={128} />
      </Field>
      <Field id="new-key-environment" label="Environment">
        <select id="new-key-environment" name="environment">
          <option value="live">live</option>
          <option value="test">test</option>
        </select>
      </Field>
      <ScopePicker id="new-key-scopes" value={scopes} onChange={setScopes} />
      <Field id="new-key-tenant" label="Tenant (optional)">
        <input id="new-key-tenant" name="tenantId" />
      </Field>
      <Field id="new-key-expires" label="Expires (optional)">
        <input id="new-key-expires" name="expiresAt" type="datetime-local" />
      </Field>
      <div class="field-row">
        <Field id="new-key-rate" label="Rate limit (requests, optional)">
          <input id="new-key-rate" name="rateLimit" type="number" min={1} />
        </Field>
        <Field id="new-key-window" label="per seconds">
          <input id="new-key-window" name="rateWindow" type="number" min={1} placeholder="60" />
        </Field>
      </div>
      <Field id="new-key-metadata" label="Metadata (optional)" hint="One name=value per line.">
        <textarea id="new-key-metadata" name="metadata" rows={3} aria-describedby="new-key-metadata-hint" />
      </Field>
      <FormActions error={error} busy={busy} submitLabel={busy ? 'Creating…' : 'Create key'} onCancel={onCancel} />
    </form>
  );
}
