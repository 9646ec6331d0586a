import { useState } from 'preact/hooks';
import { deleteClient, getClient, rotateClientSecret, updateClient } from '../api/clients';
import type { OAuthClient } from '../api/types';
import { clientUsage } from '../api/usage';
import { ConfirmButton } from '../components/confirm-button';
import { formatTime } from '../components/format';
import { Link } from '../components/link';
import { SecretOnce } from '../components/secret-once';
import { Async } from '../components/status';
import { UsageChart } from '../components/usage-chart';
import { useAsync } from '../components/use-async';
import { navigate } from '../router';
import { ClientForm, SelfRegistered } from './clients-page';

const list = (items: string[]) => (items.length ? items.map((item) => <div key={item}><code>{item}</code></div>) : '—');

/** One OAuth client: its registration, edit, rotate secret, delete, usage. */
export function ClientPage({ id }: { id: string }) {
  const [client, reload] = useAsync(() => getClient(id), [id]);
  const [editing, setEditing] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <>
      <p class="breadcrumb">
        <Link to="/clients">OAuth clients</Link> / {id}
      </p>
      {secret && <SecretOnce label="The new client secret" secret={secret} onDone={() => setSecret(null)} />}
      <Async state={client} what="the client">
        {(value) =>
          editing ? (
            <ClientForm
              initial={{ ...value, tenantId: value.tenantId ?? undefined }}
              onCancel={() => setEditing(false)}
              save={(input) => updateClient(value.clientId, input)}
              onSaved={() => {
                setEditing(false);
                reload();
              }}
            />
          ) : (
            <>
              <ClientSummary client={value} />
              <div class="actions">
                <button type="button" onClick={() => setEditing(true)}>
                  Edit
                </button>
                {value.tokenEndpointAuthMethod.startsWith('client_secret') && (
                  <ConfirmButton
                    label="Rotate secret"
                    title="Rotate the client secret?"
                    confirmLabel="Rotate"
                    action={async () => {
                      const rotated = await rotateClientSecret(value.clientId, 86_400);
                      setSecret(rotated.clientSecret);
                      reload();
                    }}
                  >
                    <p>A new secret is issued; the current one keeps working for 24 hours.</p>
                  </ConfirmButton>
                )}
                <ConfirmButton
                  label="Delete client"
                  title={`Delete ${value.name}?`}
                  confirmLabel="Delete"
                  danger
                  action={async () => {
                    await deleteClient(value.clientId);
                    navigate('/clients');
                  }}
                >
                  <p>Its tokens and grants stop working at once. This cannot be undone.</p>
                </ConfirmButton>
              </div>
              <ClientUsage id={value.clientId} />
            </>
          )
        }
      </Async>
    </>
  );
}

function ClientSummary({ client }: { client: OAuthClient }) {
  return (
    <section aria-labelledby="client-title">
      <h1 id="client-title">
        {client.name}
        {client.registration === 'dynamic' && <SelfRegistered />}
      </h1>
      <dl class="properties">
        <dt>Client id</dt>
        <dd>
          <code>{client.clientId}</code>
        </dd>
        <dt>Type</dt>
        <dd>{client.tokenEndpointAuthMethod === 'none' ? 'public' : `confidential (${client.tokenEndpointAuthMethod})`}</dd>
        <dt>Secret</dt>
        <dd>
          {client.secretPrefix ? <code>{client.secretPrefix}…</code> : '—'}
          {client.previousSecretExpiresAt && ` (previous secret works until ${formatTime(client.previousSecretExpiresAt)})`}
        </dd>
        <dt>Grant types</dt>
        <dd>{list(client.grantTypes)}</dd>
        <dt>Redirect URIs</dt>
        <dd>{list(client.redirectUris)}</dd>
        <dt>Allowed origins</dt>
        <dd>{list(client.allowedOrigins)}</dd>
        <dt>Post-logout redirect URIs</dt>
        <dd>{list(client.postLogoutRedirectUris)}</dd>
        <dt>Scopes</dt>
        <dd>{list(client.scopes)}</dd>
        <dt>Tenant</dt>
        <dd>{client.tenantId ?? '—'}</dd>
        {client.registration === 'dynamic' && (
          <>
            <dt>Registered from</dt>
            <dd>{client.registeredAddress ?? '—'}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{formatTime(client.createdAt)}</dd>
      </dl>
    </section>
  );
}

function ClientUsage({ id }: { id: string }) {
  const [usage] = useAsync(() => clientUsage(id, { granularity: 'hour' }), [id]);
  return (
    <section class="card" aria-labelledby="client-usage">
      <h2 id="client-usage">Usage, last 24 hours</h2>
      <Async state={usage} what="usage">
        {(series) => <UsageChart series={series} title="Token requests per hour by outcome" />}
      </Async>
    </section>
  );
}
