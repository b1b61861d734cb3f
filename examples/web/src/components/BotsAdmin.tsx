import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import type { Bot, BotWithKey } from "../api/types";
import { useApi } from "../hooks/useApi";
import { useChat } from "../hooks/useChat";
import { errorText } from "../hooks/useRoomMessages";
import { BotKeyPanel } from "./BotKeyPanel";
import { BotRow } from "./BotRow";
import { ErrorNote } from "./ErrorNote";
import { Field } from "./Field";

const byName = (a: Bot, b: Bot) => a.name.localeCompare(b.name);

/**
 * BotsAdmin lists the bots and makes new ones. A key is shown once, when the
 * server sends it (a new bot, a reset key), and never again.
 */
export function BotsAdmin() {
  const api = useApi();
  const { refreshUsers } = useChat();
  const [bots, setBots] = useState<Bot[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [webhook, setWebhook] = useState("");
  const [error, setError] = useState<ApiError | string | null>(null);
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<(BotWithKey & { reset: boolean }) | null>(null);
  const [status, setStatus] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    api.bots().then(setBots, (e) => setLoadError(errorText(e)));
  }, [api]);

  const put = (bot: Bot) => setBots((bs) => [...(bs ?? []).filter((b) => b.id !== bot.id), bot].sort(byName));

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setStatus("");
    setCreating(true);
    try {
      const hook = webhook.trim();
      const answer = await api.createBot(hook ? { name, webhook_url: hook } : { name });
      put(answer.bot);
      setShown({ ...answer, reset: false });
      setName("");
      setWebhook("");
      refreshUsers();
    } catch (err) {
      setError(err instanceof ApiError ? err : errorText(err));
    } finally {
      setCreating(false);
    }
  };

  const dismissKey = () => {
    setShown(null);
    heading.current?.focus();
  };

  const saved = (bot: Bot) => {
    put(bot);
    setShown((s) => (s && s.bot.id === bot.id ? { ...s, bot } : s));
    setStatus(`Saved ${bot.name}.`);
    refreshUsers();
  };

  const newKey = (answer: BotWithKey) => {
    put(answer.bot);
    setStatus("");
    setShown({ ...answer, reset: true });
  };

  const removed = (bot: Bot) => {
    setBots((bs) => bs?.filter((b) => b.id !== bot.id) ?? null);
    setShown((s) => (s && s.bot.id === bot.id ? null : s));
    setStatus(`Removed ${bot.name}.`);
    refreshUsers();
    heading.current?.focus();
  };

  const fieldError = (f: string) => (error instanceof ApiError && error.field === f ? error.message : null);
  const formError = error instanceof ApiError ? (error.field === "name" || error.field === "webhook_url" ? null : error.message) : error;

  return (
    <section className="panel" aria-labelledby="bots-heading">
      <h2 id="bots-heading" ref={heading} tabIndex={-1}>
        Bots
      </h2>
      <p>
        A bot posts to rooms with its own key, and answers through its webhook when someone @mentions it or writes to it directly. Bots join
        every open room; add them to closed rooms like anyone else.
      </p>

      {shown && <BotKeyPanel bot={shown.bot} botKey={shown.bot_key} reset={shown.reset} onDone={dismissKey} />}

      <ErrorNote>{loadError}</ErrorNote>
      {bots === null && !loadError && <p className="muted">Loading bots…</p>}
      {bots && bots.length === 0 && <p className="muted">No bots yet.</p>}
      {bots && bots.length > 0 && (
        <table className="people-table bots-table">
          <caption className="visually-hidden">Bots</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Webhook URL</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {bots.map((b) => (
              <BotRow key={b.id} bot={b} onSaved={saved} onKey={newKey} onRemoved={removed} />
            ))}
          </tbody>
        </table>
      )}
      <p className="success-note" role="status">
        {status}
      </p>

      <form className="bot-new" aria-labelledby="new-bot-heading" onSubmit={create} noValidate>
        <h3 id="new-bot-heading">New bot</h3>
        <div className="inline-form bot-form">
          <Field label="Bot name" required maxLength={80} value={name} onChange={(e) => setName(e.target.value)} error={fieldError("name")} />
          <Field
            label="Webhook URL (optional)"
            type="url"
            inputMode="url"
            placeholder="https://example.com/bot"
            maxLength={2000}
            value={webhook}
            onChange={(e) => setWebhook(e.target.value)}
            error={fieldError("webhook_url")}
            hint="Where mentions and direct messages go; the bot's text reply is posted as its answer. Leave empty for a bot that only posts."
          />
          <div className="form-buttons">
            <button type="submit" className="button primary" disabled={creating}>
              Create bot
            </button>
          </div>
        </div>
        <ErrorNote>{formError}</ErrorNote>
      </form>
    </section>
  );
}
