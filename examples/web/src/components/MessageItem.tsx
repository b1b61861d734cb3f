import { memo, useState } from "react";
import { useSession } from "../hooks/useSession";
import { paths } from "../router/routes";
import type { ChatMessage } from "../state/messages";
import { isEmojiOnly, timeLabel } from "../state/layout";
import { Avatar } from "./Avatar";
import { BoostList } from "./BoostList";
import { Link } from "./Link";
import { MessageActions } from "./MessageActions";
import { MessageEditor } from "./MessageEditor";
import type { MessageHandlers } from "./MessageList";
import { SoundButton } from "./SoundButton";

interface Props {
  message: ChatMessage;
  continued: boolean;
  highlighted: boolean;
  editing: boolean;
  onStopEditing(): void;
  roomId: number;
  handlers: MessageHandlers;
  boostsEnabled: boolean;
}

/**
 * MessageItem is one message. Its body is the server's sanitized HTML
 * (body.html), the only markup the client ever inserts; everything else,
 * including our own unsent text, is rendered as text.
 */
export const MessageItem = memo(function MessageItem({ message: m, continued, highlighted, editing, onStopEditing, roomId, handlers, boostsEnabled }: Props) {
  const { me } = useSession();
  const [error, setError] = useState<string | null>(null);
  const created = new Date(m.created_at);
  const mine = m.creator.id === me.id;
  const canChange = !m.sending && (mine || me.role === "admin");
  const mentionsMe = m.mentions.includes(me.id);
  const emoji = !m.sound && isEmojiOnly(m.body.plain_text);

  const className = [
    "message",
    continued ? "continued" : "",
    highlighted ? "highlighted" : "",
    m.sending ? "pending " + m.sending : "",
    mentionsMe ? "mentions-me" : "",
    emoji ? "emoji-only" : "",
  ]
    .filter(Boolean)
    .join(" ");

  const time = (
    <time dateTime={m.created_at} title={created.toLocaleString()}>
      {timeLabel(created)}
    </time>
  );

  return (
    <article
      className={className}
      data-message-id={m.id || undefined}
      id={m.id ? `message-${m.id}` : undefined}
      aria-label={`${m.creator.name}, ${timeLabel(created)}`}
    >
      <div className="message-gutter">
        {continued ? (
          m.id ? (
            <Link to={paths.message(roomId, m.id)} className="gutter-time" aria-label={`Link to this message, ${timeLabel(created)}`}>
              {timeLabel(created)}
            </Link>
          ) : null
        ) : (
          <Avatar user={m.creator} size={36} />
        )}
      </div>
      <div className="message-main">
        {!continued && (
          <header className="message-head">
            <Link to={paths.user(m.creator.id)} className="author">
              {m.creator.name}
            </Link>
            {m.id ? (
              <Link to={paths.message(roomId, m.id)} className="message-time" aria-label={`Link to this message, ${timeLabel(created)}`}>
                {time}
              </Link>
            ) : (
              <span className="message-time">{time}</span>
            )}
          </header>
        )}

        {editing ? (
          <MessageEditor
            initial={m.body.markdown}
            html={m.body.html}
            onSave={async (body) => {
              await handlers.edit(m.id, body);
              onStopEditing();
            }}
            onCancel={onStopEditing}
          />
        ) : m.sending ? (
          <div className="message-body plain">{m.body.plain_text}</div>
        ) : m.sound ? (
          <SoundButton name={m.sound} />
        ) : (
          <div className="message-body" dangerouslySetInnerHTML={{ __html: m.body.html }} />
        )}

        {m.sending === "sending" && (
          <p className="message-status" role="status">
            Sending…
          </p>
        )}
        {m.sending === "failed" && (
          <div className="message-failed" role="alert">
            <span>Not sent{m.error ? `: ${m.error}` : "."}</span>
            <button type="button" className="link-button" onClick={() => handlers.retry(m.client_message_id)}>
              Retry
            </button>
            <button type="button" className="link-button" onClick={() => handlers.discard(m.client_message_id)}>
              Discard
            </button>
          </div>
        )}
        {error && (
          <p className="message-failed" role="alert">
            {error}
          </p>
        )}

        {!m.sending && (
          <BoostList
            message={m}
            enabled={boostsEnabled}
            onBoost={(content) => handlers.boost(m.id, content).catch((e) => setError(e.message))}
            onUnboost={(id) => handlers.unboost(m.id, id).catch((e) => setError(e.message))}
          />
        )}
      </div>
      {!m.sending && !editing && (
        <MessageActions
          message={m}
          canChange={canChange}
          boostsEnabled={boostsEnabled}
          onBoost={async (content) => {
            setError(null);
            await handlers.boost(m.id, content);
          }}
          onEdit={() => handlers.startEditing(m.id)}
          onDelete={async () => {
            setError(null);
            try {
              await handlers.remove(m.id);
            } catch (e) {
              setError((e as Error).message);
            }
          }}
        />
      )}
    </article>
  );
});
