import { Code, ConnectError } from "@connectrpc/connect";
import { useState, type FormEvent } from "react";
import { errorText } from "../api/errors";
import { useSession } from "../session";

export function SignInPage() {
  const { signIn, notice } = useSession();
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!key.trim()) {
      setError("Enter your API key.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(key);
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
        setError(`This API key was not accepted: ${err.rawMessage}. Check it and try again.`);
      } else {
        setError(`Could not sign in: ${errorText(err)}`);
      }
      setBusy(false);
    }
  }

  return (
    <div className="signin">
      <form className="signin-card" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title" noValidate>
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true">
            ≋
          </span>
          Sluice
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">Use an API key of your tenant (from <code>sluice bootstrap</code>). It is kept in this tab only.</p>
        {notice && (
          <div className="notice" role="status" data-testid="signin-notice">
            {notice}
          </div>
        )}
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="sk_sluice_…"
          data-testid="api-key-input"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "signin-error" : undefined}
        />
        {error && (
          <div id="signin-error" className="field-error" role="alert" data-testid="signin-error">
            {error}
          </div>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="sign-in">
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
