import { useState } from 'preact/hooks';
import { createClient, listClients, type ClientInput } from '../api/clients';
import { Field } from '../components/field';
import { formFields, formatTime, splitList } from '../components/format';
import { Link } from '../components/link';
import { SecretOnce } from '../components/secret-once';
import { Async, Empty } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';
import { navigate } from '../router';
import { FormActions, PageHeader, Table } from '../components/layout';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'];
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];

/** OAuth clients: the list, and creating one (its secret shown once). */
export function ClientsPage() {
  const [clients, reload] = useAsync(() => listClients(), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ clientId: string; secret: string } | null>(null);
  return (
    <>
      <PageHeader title="OAuth clients" action={!creating && !created ? { label: 'Create client', onClick: () => setCreating(true) } : null} />
      {created && (
        <SecretOnce
          label={`Client secret of ${created.clientId}`}
          secret={created.secret}
          onDone={() => {
            const id = created.clientId;
            setCreated(null);
            navigate(`/clients/${id}`);
          }}
        />
      )}
      {creating && (
        <ClientForm
          onCancel={() => setCreating(false)}
          onSaved={(client) => {
            setCreating(false);
            reload();
            if (client.clientSecret) setCreated({ clientId: client.clientId, secret: client.clientSecret });
            else navigate(`/clients/${client.clientId}`);
          }}
        />
      )}
      <Async state={clients} what="clients">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No OAuth clients yet.</Empty>
          ) : (
            <Table caption="OAuth clients" columns={['Name', 'Client id', 'Type', 'Grant types', 'Tenant', 'Created']}>
              {page.data.map((client) => (
                <tr key={client.clientId}>
                  <td>
                    <Link to={`/clients/${client.clientId}`}>{client.name}</Link>
                    {client.registration === 'dynamic' && <SelfRegistered />}
                  </td>
                  <td>
                    <code>{client.clientId}</code>
                  </td>
                  <td>{client.tokenEndpointAuthMethod === 'none' ? 'public' : 'confidential'}</td>
                  <td>{client.grantTypes.join(', ')}</td>
                  <td>{client.tenantId ?? '—'}</td>
                  <td>{formatTime(client.createdAt)}</td>
                </tr>
              ))}
            </Table>
          )
        }
      </Async>
    </>
  );
}

/** The mark of a client that registered itself (Dynamic Client Registration, RFC 7591). */
export function SelfRegistered() {
  return (
    <span class="badge" title="Registered itself through Dynamic Client Registration (RFC 7591)">
      Self-registered
    </span>
  );
}

/** Creates a client, or edits one (`initial` given: no tenant, and only what changed is sent). */
export function ClientForm(props: {
  initial?: ClientInput;
  onCancel: () => void;
  onSaved: (client: { clientId: string; clientSecret?: string }) => void;
  save?: (input: ClientInput) => Promise<{ clientId: string; clientSecret?: string }>;
}) {
  const initial = props.initial;
  const [kind, setKind] = useState<'confidential' | 'public'>(initial?.tokenEndpointAuthMethod === 'none' ? 'public' : 'confidential');
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    const { text, all } = formFields(event);
    const input: ClientInput = {
      name: text('name'),
      grantTypes: all('grantTypes'),
      tokenEndpointAuthMethod: kind === 'public' ? 'none' : text('authMethod'),
      redirectUris: splitList(text('redirectUris')),
      allowedOrigins: splitList(text('allowedOrigins')),
      postLogoutRedirectUris: splitList(text('postLogoutRedirectUris')),
      scopes: splitList(text('scopes')),
    };
    if (!initial && text('tenantId')) input.tenantId = text('tenantId');
    void run(async () => props.onSaved(await (props.save ?? createClient)(input)));
  };
  const grantTypes = initial?.grantTypes ?? ['authorization_code', 'refresh_token'];
  return (
    <form class="card form" aria-labelledby="client-form-title" onSubmit={submit}>
      <h2 id="client-form-title">{initial ? 'Edit client' : 'Create an OAuth client'}</h2>
      <Field id="client-name" label="Name">
        <input id="client-name" name="name" required maxLength={128} defaultValue={initial?.name} />
      </Field>
      <fieldset>
        <legend>Type</legend>
        <label class="checkbox">
          <input type="radio" name="kind" value="confidential" checked={kind === 'confidential'} onChange={() => setKind('confidential')} />
          Confidential (a server that keeps a secret)
        </label>
        <label class="checkbox">
          <input type="radio" name="kind" value="public" checked={kind === 'public'} onChange={() => setKind('public')} />
          Public (a browser or native app: PKCE, no secret)
        </label>
      </fieldset>
      {kind === 'confidential' && (
        <Field id="client-auth-method" label="Client authentication">
          <select id="client-auth-method" name="authMethod" value={initial?.tokenEndpointAuthMethod ?? 'client_secret_basic'}>
            {AUTH_METHODS.map((method) => (
              <option key={method} value={method}>
                {method}
              </option>
            ))}
          </select>
        </Field>
      )}
      <fieldset>
        <legend>Grant types</legend>
        {GRANT_TYPES.map((grant) => (
          <label key={grant} class="checkbox">
            <input type="checkbox" name="grantTypes" value={grant} defaultChecked={grantTypes.includes(grant)} />
            {grant}
          </label>
        ))}
      </fieldset>
      <Field id="client-redirect-uris" label="Redirect URIs" hint="One per line; registered exactly.">
        <textarea id="client-redirect-uris" name="redirectUris" rows={2} aria-describedby="client-redirect-uris-hint" defaultValue={initial?.redirectUris?.join('\n') ?? ''} />
      </Field>
      <Field id="client-origins" label="Allowed origins (CORS)" hint="scheme://host[:port], one per line.">
        <textarea id="client-origins" name="allowedOrigins" rows={2} aria-describedby="client-origins-hint" defaultValue={initial?.allowedOrigins?.join('\n') ?? ''} />
      </Field>
      <Field id="client-logout-uris" label="Post-logout redirect URIs">
        <textarea id="client-logout-uris" name="postLogoutRedirectUris" rows={2} defaultValue={initial?.postLogoutRedirectUris?.join('\n') ?? ''} />
      </Field>
      <Field id="client-scopes" label="Scopes it may request" hint="Separated by spaces.">
        <input id="client-scopes" name="scopes" defaultValue={initial?.scopes?.join(' ') ?? ''} aria-describedby="client-scopes-hint" />
      </Field>
      {!initial && (
        <Field id="client-tenant" label="Tenant (optional)">
          <input id="client-tenant" name="tenantId" />
        </Field>
      )}
      <FormActions error={error} busy={busy} submitLabel={initial ? 'Save' : 'Create client'} onCancel={props.onCancel} />
    </form>
  );
}
