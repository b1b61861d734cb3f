import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { ApiError } from "../api/client";
import type { Bot, BotWithKey } from "../api/types";
import { useApi } from "../hooks/useApi";
import { errorText } from "../hooks/useRoomMessages";
import { paths } from "../router/routes";
import { Avatar } from "./Avatar";
import { ErrorNote } from "./ErrorNote";
import { Field } from "./Field";
import { InlineConfirm } from "./InlineConfirm";
import { Link } from "./Link";

type Mode = "view" | "edit" | "reset" | "remove";

/** BotRow is one bot in the Bots table: edit its name and webhook, reset its key, or remove it (asking first). */
export function BotRow({
  bot,
  onSaved,
  onKey,
  onRemoved,
}: {
  bot: Bot;
  onSaved(bot: Bot): void;
  onKey(answer: BotWithKey): void;
  onRemoved(bot: Bot): void;
}) {
  const api = useApi();
  const [mode, setMode] = useState<Mode>("view");
  const [name, setName] = useState(bot.name);
  const [webhook, setWebhook] = useState(bot.webhook_url);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const buttons = { edit: useRef<HTMLButtonElement>(null), reset: useRef<HTMLButtonElement>(null), remove: useRef<HTMLButtonElement>(null) };
  // The button to give focus back to when a form or question closes.
  const returnTo = useRef<Exclude<Mode, "view"> | null>(null);

  useEffect(() => {
    if (mode !== "view" || !returnTo.current) return;
    buttons[returnTo.current].current?.focus();
    returnTo.current = null;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mode]);

  const open = (next: Exclude<Mode, "view">) => {
    setError(null);
    if (next === "edit") {
      setName(bot.name);
      setWebhook(bot.webhook_url);
    }
    setMode(next);
  };

  const close = (from: Exclude<Mode, "view">) => {
    returnTo.current = from;
    setMode("view");
  };

  const run = async (from: Exclude<Mode, "view">, action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err instanceof ApiError ? err : errorText(err));
      // A question answered with a failure goes away; the reason stays, under the row.
      if (from !== "edit") close(from);
    } finally {
      setBusy(false);
    }
  };

  const save = (e: FormEvent) => {
    e.preventDefault();
    const req: { name?: string; webhook_url?: string } = {};
    if (name !== bot.name) req.name = name;
    if (webhook.trim() !== bot.webhook_url) req.webhook_url = webhook.trim();
    if (req.name === undefined && req.webhook_url === undefined) {
      close("edit");
      return;
    }
    void run("edit", async () => {
      onSaved(await api.updateBot(bot.id, req));
      close("edit");
    });
  };

  const resetKey = () =>
    run("reset", async () => {
      const answer = await api.resetBotKey(bot.id);
      onKey(answer);
      setMode("view"); // the key panel takes focus
    });

  const remove = () =>
    run("remove", async () => {
      await api.deleteBot(bot.id);
      onRemoved(bot);
    });

  const message = error instanceof ApiError ? error.message : error;
  const fieldError = (f: string) => (error instanceof ApiError && error.field === f ? error.message : null);
  const rowError = error instanceof ApiError && (error.field === "name" || error.field === "webhook_url") ? null : message;

  if (mode === "edit") {
    const cancelOnEscape = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        close("edit");
      }
    };
    return (
      <tr className="bot-editing">
        <td colSpan={3}>
          <form className="inline-form bot-form" aria-label={`Edit ${bot.name}`} onSubmit={save} onKeyDown={cancelOnEscape} noValidate>
            <Field label="Bot name" required maxLength={80} value={name} onChange={(e) => setName(e.target.value)} error={fieldError("name")} autoFocus />
            <Field
              label="Webhook URL"
              type="url"
              inputMode="url"
              placeholder="https://example.com/bot"
              maxLength={2000}
              value={webhook}
              onChange={(e) => setWebhook(e.target.value)}
              error={fieldError("webhook_url")}
            />
            <div className="form-buttons">
              <button type="submit" className="button primary" disabled={busy}>
                Save
              </button>
              <button type="button" className="button" onClick={() => close("edit")}>
                Cancel
              </button>
            </div>
          </form>
          <ErrorNote>{rowError}</ErrorNote>
        </td>
      </tr>
    );
  }

  return (
    <>
      <tr>
        <td>
          <div className="person">
            <Avatar user={bot} size={28} />
            <Link to={paths.user(bot.id)}>{bot.name}</Link>
          </div>
        </td>
        <td className="bot-webhook">{bot.webhook_url ? <span className="mono">{bot.webhook_url}</span> : <span className="muted">None</span>}</td>
        <td>
          <div className="row-actions">
            <button ref={buttons.edit} type="button" className="button small" aria-label={`Edit ${bot.name}`} onClick={() => open("edit")}>
              Edit
            </button>
            <button
              ref={buttons.reset}
              type="button"
              className="button small"
              aria-label={`Reset key of ${bot.name}`}
              onClick={() => open("reset")}
            >
              Reset key
            </button>
            <button
              ref={buttons.remove}
              type="button"
              className="button small danger"
              aria-label={`Remove ${bot.name}`}
              onClick={() => open("remove")}
            >
              Remove
            </button>
          </div>
        </td>
      </tr>
      {(mode === "reset" || mode === "remove" || message) && (
        <tr className="bot-question">
          <td colSpan={3}>
            {mode === "reset" && (
              <InlineConfirm
                message={`Reset the key of ${bot.name}? The current key stops working at once.`}
                confirmLabel="Reset key"
                busy={busy}
                onConfirm={resetKey}
                onCancel={() => close("reset")}
              />
            )}
            {mode === "remove" && (
              <InlineConfirm
                message={`Remove ${bot.name}? Its key stops working and it can't post any more.`}
                confirmLabel="Remove bot"
                busy={busy}
                onConfirm={remove}
                onCancel={() => close("remove")}
              />
            )}
            <ErrorNote>{message}</ErrorNote>
          </td>
        </tr>
      )}
    </>
  );
}
