import { useState } from "react";
import type { Message } from "../api/types";
import { BoostPicker } from "./BoostPicker";
import { Icon } from "./Icon";

/** MessageActions: boost, edit and delete, shown on hover or keyboard focus. */
export function MessageActions({
  message,
  canChange,
  boostsEnabled,
  onBoost,
  onEdit,
  onDelete,
}: {
  message: Message;
  canChange: boolean;
  boostsEnabled: boolean;
  onBoost(content: string): Promise<void>;
  onEdit(): void;
  onDelete(): Promise<void>;
}) {
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const open = picking || confirming;

  return (
    <div className={"message-actions" + (open ? " open" : "")} role="toolbar" aria-label={`Actions for ${message.creator.name}'s message`}>
      {confirming ? (
        <div className="confirm-delete">
          <span>Delete this message?</span>
          <button type="button" className="button small danger" onClick={() => onDelete().finally(() => setConfirming(false))} autoFocus>
            Delete
          </button>
          <button type="button" className="button small" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </div>
      ) : (
        <>
          <button
            type="button"
            className="icon-button small"
            aria-label={boostsEnabled ? "Boost" : "Boosts are turned off on this server"}
            title={boostsEnabled ? "Boost" : "Boosts are turned off on this server"}
            aria-expanded={picking}
            disabled={!boostsEnabled}
            onClick={() => setPicking(!picking)}
          >
            <Icon name="boost" size={16} />
          </button>
          {canChange && message.sound === null && (
            <button type="button" className="icon-button small" aria-label="Edit" title="Edit" onClick={onEdit}>
              <Icon name="edit" size={16} />
            </button>
          )}
          {canChange && (
            <button type="button" className="icon-button small" aria-label="Delete" title="Delete" onClick={() => setConfirming(true)}>
              <Icon name="trash" size={16} />
            </button>
          )}
        </>
      )}
      {picking && (
        <BoostPicker
          onPick={async (c) => {
            await onBoost(c);
            setPicking(false);
          }}
          onClose={() => setPicking(false)}
        />
      )}
    </div>
  );
}
