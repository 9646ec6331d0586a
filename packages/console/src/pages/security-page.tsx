import { useState } from 'preact/hooks';
import { listAuditEvents } from '../api/audit';
import {
  deleteBlock,
  issueCertificate,
  listBlocks,
  listCertificates,
  listSigningKeys,
  reportLeakedKeys,
  revokeCertificate,
  rotateSigningKey,
  type IssueCertificateInput,
  type IssuedCertificate,
  type LeakResult,
} from '../api/security';
import { serverUrl } from '../base-url';
import { AuditTable } from '../components/audit-table';
import { ConfirmButton } from '../components/confirm-button';
import { Field } from '../components/field';
import { formFields, formatTime, splitList } from '../components/format';
import { FormActions } from '../components/layout';
import { SecretOnce } from '../components/secret-once';
import { Async, Empty, ErrorMessage } from '../components/status';
import { useAction } from '../components/use-action';
import { useAsync } from '../components/use-async';

/** Security: IP blocks, alerts, leaked keys, signing keys, certificates. */
export function SecurityPage() {
  return (
    <>
      <h1>Security</h1>
      <Blocks />
      <Alerts />
      <LeakedKeys />
      <SigningKeys />
      <Certificates />
    </>
  );
}

/** The blocked addresses; with `canUnblock`, each with an Unblock button (after a confirmation). */
export function BlockList({ canUnblock = false }: { canUnblock?: boolean }) {
  const [blocks, reload] = useAsync(() => listBlocks(), []);
  return (
    <Async state={blocks} what="IP blocks">
      {(page) =>
        page.data.length === 0 ? (
          <Empty>No address is blocked.</Empty>
        ) : (
          <ul class="plain-list">
            {page.data.map((block) => (
              <li key={block.ip}>
                <code>{block.ip}</code> {block.reason}
                {block.failures !== null && `, ${block.failures} failures`}, until {formatTime(block.expiresAt)}{' '}
                {canUnblock && (
                  <ConfirmButton
                    label={`Unblock ${block.ip}`}
                    title={`Unblock ${block.ip}?`}
                    confirmLabel="Unblock"
                    action={async () => {
                      await deleteBlock(block.ip);
                      reload();
                    }}
                  >
                    <p>Requests from this address are accepted again at once.</p>
                  </ConfirmButton>
                )}
              </li>
            ))}
          </ul>
        )
      }
    </Async>
  );
}

function Blocks() {
  return (
    <section class="card" aria-labelledby="blocks">
      <h2 id="blocks">IP blocks</h2>
      <BlockList canUnblock />
    </section>
  );
}

function Alerts() {
  const [alerts] = useAsync(() => listAuditEvents({ type: 'alert.*', limit: 20 }), []);
  return (
    <section class="card" aria-labelledby="alerts">
      <h2 id="alerts">Alerts</h2>
      <Async state={alerts} what="alerts">
        {(page) => (page.data.length === 0 ? <Empty>No alerts.</Empty> : <AuditTable events={page.data} caption="Alerts" />)}
      </Async>
    </section>
  );
}

function LeakedKeys() {
  const { busy, error, run } = useAction();
  const [results, setResults] = useState<LeakResult[] | null>(null);
  return (
    <section class="card" aria-labelledby="leaked">
      <h2 id="leaked">Report leaked keys</h2>
      <form
        class="form"
        onSubmit={(event) => {
          event.preventDefault();
          const form = event.currentTarget;
          const tokens = splitList(String(new FormData(form).get('tokens') ?? ''));
          void run(async () => {
            setResults((await reportLeakedKeys(tokens.map((token) => ({ token, source: 'console' })))).data);
            form.reset();
          });
        }}
      >
        <Field id="leaked-tokens" label="Keys found exposed" hint="One per line. Live keys among them are revoked at once; the keys are never shown back.">
          <textarea id="leaked-tokens" name="tokens" rows={3} required autoComplete="off" spellcheck={false} aria-describedby="leaked-tokens-hint" />
        </Field>
        {error !== null && <ErrorMessage error={error} />}
        <button type="submit" class="danger" disabled={busy}>
          Report and revoke
        </button>
      </form>
      {results && (
        <ul class="plain-list" role="status">
          {results.map((result) => (
            <li key={result.index}>
              {result.prefix ? <code>{result.prefix}</code> : `#${result.index + 1}`}: {result.outcome}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function SigningKeys() {
  const [keys, reload] = useAsync(() => listSigningKeys(), []);
  return (
    <section class="card" aria-labelledby="signing-keys">
      <div class="page-header">
        <h2 id="signing-keys">Signing keys</h2>
        <a href={serverUrl('/.well-known/jwks.json')}>JWKS</a>
      </div>
      <Async state={keys} what="signing keys">
        {(page) => (
          <>
            <ul class="plain-list">
              {page.data.map((key) => (
                <li key={key.kid}>
                  <code>{key.kid}</code> {key.alg} <span class={`status status-${key.status === 'active' ? 'active' : 'expired'}`}>{key.status}</span>{' '}
                  since {formatTime(key.activatesAt)}
                  {key.publishUntil && `, published until ${formatTime(key.publishUntil)}`}
                </li>
              ))}
            </ul>
            <ConfirmButton
              label="Rotate signing key"
              title="Rotate the signing key?"
              confirmLabel="Rotate"
              action={async () => {
                await rotateSigningKey();
                reload();
              }}
            >
              <p>A new key is published now and signs after the JWKS caches have refreshed; the old one stays published until its tokens expire.</p>
            </ConfirmButton>
          </>
        )}
      </Async>
    </section>
  );
}

function Certificates() {
  const [certificates, reload] = useAsync(() => listCertificates(), []);
  const [issuing, setIssuing] = useState(false);
  const [issued, setIssued] = useState<IssuedCertificate | null>(null);
  return (
    <section class="card" aria-labelledby="certificates">
      <div class="page-header">
        <h2 id="certificates">Client certificates</h2>
        <a href={serverUrl('/ca/crl')}>CRL</a>
        {!issuing && !issued && (
          <button type="button" onClick={() => setIssuing(true)}>
            Issue certificate
          </button>
        )}
      </div>
      {issuing && (
        <IssueCertificateForm
          onCancel={() => setIssuing(false)}
          onIssued={(certificate) => {
            setIssuing(false);
            setIssued(certificate);
            reload();
          }}
        />
      )}
      {issued && <IssuedCertificateView certificate={issued} onDone={() => setIssued(null)} />}
      <Async state={certificates} what="certificates">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No certificate issued yet.</Empty>
          ) : (
            <ul class="plain-list">
              {page.data.map((certificate) => (
                <li key={certificate.id}>
                  <code>{certificate.commonName}</code> serial <code>{certificate.serialNumber}</code>{' '}
                  <span class={`status status-${certificate.status}`}>{certificate.status}</span> until {formatTime(certificate.notAfter)}{' '}
                  {certificate.status === 'active' && (
                    <ConfirmButton
                      label={`Revoke certificate ${certificate.serialNumber}`}
                      title="Revoke this certificate?"
                      confirmLabel="Revoke"
                      danger
                      action={async () => {
                        await revokeCertificate(certificate.serialNumber);
                        reload();
                      }}
                    >
                      <p>It is refused at once and listed in the CRL.</p>
                    </ConfirmButton>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </section>
  );
}

/**
 * Issues a client certificate for an OAuth client or a service: from a CSR (the private key never leaves its
 * holder), or with a key pair Gatehouse generates and shows once.
 */
function IssueCertificateForm({ onCancel, onIssued }: { onCancel: () => void; onIssued: (certificate: IssuedCertificate) => void }) {
  const [subject, setSubject] = useState<'client' | 'service'>('client');
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    const { text } = formFields(event);
    const input: IssueCertificateInput = subject === 'client' ? { clientId: text('clientId') } : { commonName: text('commonName') };
    const hours = text('lifetimeHours');
    if (hours) input.lifetimeSeconds = Math.round(Number(hours) * 3600);
    if (text('csr')) input.csr = text('csr');
    void run(async () => onIssued(await issueCertificate(input)));
  };
  return (
    <form class="form" aria-labelledby="certificate-form-title" onSubmit={submit}>
      <h3 id="certificate-form-title">Issue a client certificate</h3>
      <fieldset>
        <legend>For</legend>
        <label class="checkbox">
          <input type="radio" name="subject" value="client" checked={subject === 'client'} onChange={() => setSubject('client')} />
          An OAuth client (tls_client_auth)
        </label>
        <label class="checkbox">
          <input type="radio" name="subject" value="service" checked={subject === 'service'} onChange={() => setSubject('service')} />
          A service
        </label>
      </fieldset>
      {subject === 'client' ? (
        <Field id="certificate-client-id" label="Client id">
          <input id="certificate-client-id" name="clientId" required maxLength={64} placeholder="cli_..." />
        </Field>
      ) : (
        <Field id="certificate-service" label="Service name">
          <input id="certificate-service" name="commonName" required maxLength={128} pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" />
        </Field>
      )}
      <Field id="certificate-lifetime" label="Lifetime in hours" hint="Empty: 24 hours. At most the server's maximum.">
        <input id="certificate-lifetime" name="lifetimeHours" type="number" min={1} step={1} aria-describedby="certificate-lifetime-hint" />
      </Field>
      <Field id="certificate-csr" label="Certificate signing request (PEM)" hint="Empty: Gatehouse generates the key pair and shows its private key once.">
        <textarea id="certificate-csr" name="csr" rows={3} aria-describedby="certificate-csr-hint" />
      </Field>
      <FormActions error={error} busy={busy} submitLabel="Issue certificate" onCancel={onCancel} />
    </form>
  );
}

/** A certificate just issued: its PEM, and the private key Gatehouse generated, shown once (never stored). */
function IssuedCertificateView({ certificate, onDone }: { certificate: IssuedCertificate; onDone: () => void }) {
  return (
    <section aria-labelledby="issued-certificate">
      <h3 id="issued-certificate">
        Certificate <code>{certificate.serialNumber}</code> for <code>{certificate.commonName}</code>, valid until {formatTime(certificate.notAfter)}
      </h3>
      <pre class="pem" data-testid="certificate-pem">
        {certificate.certificatePem}
      </pre>
      {certificate.privateKeyPem ? (
        <SecretOnce
          label="Its private key"
          secret={certificate.privateKeyPem}
          warning="Copy it now and store it safely: Gatehouse does not keep it and will never show it again."
          onDone={onDone}
        />
      ) : (
        <button type="button" class="primary" onClick={onDone}>
          Done
        </button>
      )}
    </section>
  );
}
