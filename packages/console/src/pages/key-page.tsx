import { useState } from 'preact/hooks';
import { listAuditEvents } from '../api/audit';
import { getKey, revokeKey, rotateKey } from '../api/keys';
import type { ApiKey } from '../api/types';
import { keyUsage } from '../api/usage';
import { AuditTable } from '../components/audit-table';
import { ConfirmButton } from '../components/confirm-button';
import { Field } from '../components/field';
import { formatTime } from '../components/format';
import { Link } from '../components/link';
import { SecretOnce } from '../components/secret-once';
import { Async, Empty, ErrorMessage } from '../components/status';
import { UsageChart } from '../components/usage-chart';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';
import { navigate } from '../router';

/** One key: what it is, last used, rotate (with a grace period), revoke, its usage, failures and audit trail. */
export function KeyPage({ id }: { id: string }) {
  const [key, reload] = useAsync(() => getKey(id), [id]);
  const [rotated, setRotated] = useState<{ id: string; key: string } | null>(null);
  return (
    <>
      <p class="breadcrumb">
        <Link to="/keys">API keys</Link> / {id}
      </p>
      {rotated && (
        <SecretOnce
          label="The replacement key"
          secret={rotated.key}
          onDone={() => {
            const next = rotated.id;
            setRotated(null);
            navigate(`/keys/${next}`);
          }}
        />
      )}
      <Async state={key} what="the key">
        {(value) => (
          <>
            <KeySummary apiKey={value} />
            {value.status === 'active' && !rotated && (
              <section class="card" aria-labelledby="key-actions">
                <h2 id="key-actions">Rotate or revoke</h2>
                <RotateForm id={value.id} onRotated={(next) => { setRotated(next); reload(); }} />
                <ConfirmButton
                  label="Revoke key"
                  title={`Revoke ${value.name}?`}
                  confirmLabel="Revoke now"
                  danger
                  action={async () => {
                    await revokeKey(value.id);
                    reload();
                  }}
                >
                  <p>
                    <code>{value.prefix}</code> stops working at once, on every Gatehouse node. This cannot be undone.
                  </p>
                </ConfirmButton>
              </section>
            )}
            <KeyActivity apiKey={value} />
          </>
        )}
      </Async>
    </>
  );
}

function KeySummary({ apiKey }: { apiKey: ApiKey }) {
  return (
    <section aria-labelledby="key-title">
      <div class="page-header">
        <h1 id="key-title">{apiKey.name}</h1>
        <span class={`status status-${apiKey.status}`} data-testid="key-status">
          {apiKey.status}
        </span>
      </div>
      <dl class="properties">
        <dt>Prefix</dt>
        <dd>
          <code>{apiKey.prefix}</code>
        </dd>
        <dt>Environment</dt>
        <dd>{apiKey.environment}</dd>
        <dt>Tenant</dt>
        <dd>{apiKey.tenantId ?? '—'}</dd>
        <dt>Scopes</dt>
        <dd>{apiKey.scopes.length ? apiKey.scopes.map((scope) => <code key={scope} class="scope">{scope}</code>) : '—'}</dd>
        <dt>Rate limit</dt>
        <dd>{apiKey.rateLimit ? `${apiKey.rateLimit.limit} per ${apiKey.rateLimit.windowSeconds} s` : '—'}</dd>
        <dt>Last used</dt>
        <dd data-testid="last-used">{formatTime(apiKey.lastUsedAt)}</dd>
        <dt>Created</dt>
        <dd>{formatTime(apiKey.createdAt)}</dd>
        <dt>Expires</dt>
        <dd>{formatTime(apiKey.expiresAt)}</dd>
        {apiKey.revokedAt && (
          <>
            <dt>Revoked</dt>
            <dd>{formatTime(apiKey.revokedAt)}</dd>
          </>
        )}
        {apiKey.rotatedFromId && (
          <>
            <dt>Replaces</dt>
            <dd>
              <Link to={`/keys/${apiKey.rotatedFromId}`}>{apiKey.rotatedFromId}</Link>
            </dd>
          </>
        )}
        {apiKey.rotatedToId && (
          <>
            <dt>Replaced by</dt>
            <dd>
              <Link to={`/keys/${apiKey.rotatedToId}`}>{apiKey.rotatedToId}</Link>
            </dd>
          </>
        )}
        {Object.keys(apiKey.metadata).length > 0 && (
          <>
            <dt>Metadata</dt>
            <dd>
              <pre>{JSON.stringify(apiKey.metadata, null, 2)}</pre>
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

function RotateForm({ id, onRotated }: { id: string; onRotated: (key: { id: string; key: string }) => void }) {
  const { busy, error, run } = useAction();
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        const hours = Number(new FormData(event.currentTarget).get('grace') ?? 24);
        void run(async () => onRotated(await rotateKey(id, Math.round(hours * 3600))));
      }}
    >
      <Field id="grace" label="Old key keeps working for (hours)" hint="0 revokes the old key at once.">
        <input id="grace" name="grace" type="number" min={0} max={720} step="any" value="24" aria-describedby="grace-hint" />
      </Field>
      <button type="submit" disabled={busy}>
        Rotate key
      </button>
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}

function KeyActivity({ apiKey }: { apiKey: ApiKey }) {
  const [usage] = useAsync(() => keyUsage(apiKey.id, { granularity: 'hour' }), [apiKey.id]);
  const [events] = useAsync(() => listAuditEvents({ keyId: apiKey.id, limit: 100 }), [apiKey.id, apiKey.updatedAt, apiKey.status]);
  return (
    <>
      <section class="card" aria-labelledby="key-usage">
        <h2 id="key-usage">Usage, last 24 hours</h2>
        <Async state={usage} what="usage">
          {(series) => <UsageChart series={series} title="Verifications per hour by outcome" />}
        </Async>
      </section>
      <Async state={events} what="the audit trail">
        {(page) => {
          const failures = page.data.filter((event) => event.outcome === 'failure');
          return (
            <>
              <section class="card" aria-labelledby="key-failures">
                <h2 id="key-failures">Recent failures</h2>
                {failures.length === 0 ? <Empty>No failed use of this key.</Empty> : <AuditTable events={failures} caption="Recent failures" />}
              </section>
              <section class="card" aria-labelledby="key-audit">
                <h2 id="key-audit">Audit trail</h2>
                {page.data.length === 0 ? <Empty>No events yet.</Empty> : <AuditTable events={page.data} caption="Audit trail" />}
              </section>
            </>
          );
        }}
      </Async>
    </>
  );
}
