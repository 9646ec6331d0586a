import { useState } from 'preact/hooks';

/**
 * A secret the server answered once (an API key, a client secret, a webhook secret): shown here, with a copy
 * button and the warning that it will not be shown again. It lives only in this component's state: once the
 * user dismisses it, the console no longer holds it.
 */
export function SecretOnce({
  label,
  secret,
  onDone,
  warning = 'Copy it now and store it safely: Gatehouse keeps only its hash and will never show it again.',
}: {
  label: string;
  secret: string;
  onDone: () => void;
  /** What the user must know about it (default: Gatehouse keeps only its hash). */
  warning?: string;
}) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <section class="secret-once" aria-labelledby="secret-once-title">
      <h3 id="secret-once-title">{label}</h3>
      <p class="warning" role="alert">
        {warning}
      </p>
      <div class="secret-row">
        <code class="secret" data-testid="secret">
          {secret}
        </code>
        <button type="button" onClick={copy}>
          Copy
        </button>
      </div>
      <p class="copy-status" role="status" aria-live="polite">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Could not copy: select the text and copy it.' : ''}
      </p>
      <button type="button" class="primary" onClick={onDone}>
        I have stored it
      </button>
    </section>
  );
}
