import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { MessageEditor } from "./MessageEditor";

describe("MessageEditor", () => {
  it("shows mentions by id as names and saves them as ids", async () => {
    const onSave = vi.fn(async () => {});
    const html = '<p><span class="mention" data-user-id="4">@Helper</span> status</p>';
    render(<MessageEditor initial="<@4> status" html={html} onSave={onSave} onCancel={() => {}} />);
    const box = screen.getByRole("textbox", { name: "Edit message" });
    expect(box).toHaveValue("@Helper status");
    const user = userEvent.setup();
    await user.type(box, " now{Enter}");
    expect(onSave).toHaveBeenCalledWith("<@4> status now");
  });

  it("cancels when nothing changed", async () => {
    const onSave = vi.fn(async () => {});
    const onCancel = vi.fn();
    render(<MessageEditor initial="hi <@4>" html='<p>hi <span class="mention" data-user-id="4">@Helper</span></p>' onSave={onSave} onCancel={onCancel} />);
    await userEvent.setup().keyboard("{Enter}");
    expect(onCancel).toHaveBeenCalled();
    expect(onSave).not.toHaveBeenCalled();
  });
});
