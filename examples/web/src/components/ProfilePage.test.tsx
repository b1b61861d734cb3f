import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { ada, FakeSocket, fakeApi } from "../test/fakes";
import { renderInChat } from "../test/render";
import { ProfilePage } from "./ProfilePage";

beforeEach(() => FakeSocket.reset());

async function changePassword(updateMe = vi.fn(async () => ada), current = "old password") {
  const api = fakeApi({ updateMe });
  const user = userEvent.setup();
  renderInChat(<ProfilePage />, api);
  if (current) await user.type(screen.getByLabelText("Current password"), current);
  await user.type(screen.getByLabelText("New password"), "new password 1");
  await user.type(screen.getByLabelText("Confirm new password"), "new password 1");
  await user.click(screen.getByRole("button", { name: "Save" }));
  return { api, user };
}

describe("ProfilePage: changing the password", () => {
  it("sends the current password with the new one", async () => {
    const { api } = await changePassword();
    expect(await screen.findByRole("status")).toHaveTextContent("Your password is changed.");
    expect(api.updateMe).toHaveBeenCalledWith({ password: "new password 1", current_password: "old password" });
    expect(screen.getByLabelText("Current password")).toHaveValue("");
  });

  it("asks for the current password before sending anything", async () => {
    const { api } = await changePassword(undefined, "");
    const field = screen.getByLabelText("Current password");
    expect(field).toHaveAttribute("aria-invalid", "true");
    expect(field).toHaveAccessibleDescription(expect.stringContaining("Enter your current password to change it."));
    expect(api.updateMe).not.toHaveBeenCalled();
  });

  it("shows the server's refusal of a wrong current password by that field", async () => {
    const wrong = vi.fn(async () => {
      throw new ApiError(422, { code: "invalid", field: "current_password", message: "current_password is wrong" });
    });
    await changePassword(wrong, "not it");
    const field = await screen.findByLabelText("Current password");
    expect(await screen.findByText("That's not your current password.")).toBeInTheDocument();
    expect(field).toHaveAttribute("aria-invalid", "true");
    expect(field).toHaveAccessibleDescription(expect.stringContaining("That's not your current password."));
    expect(screen.getByLabelText("New password")).toHaveValue("new password 1");
  });

  it("does not ask for it to change only the name", async () => {
    const updateMe = vi.fn(async () => ({ ...ada, name: "Ada King" }));
    const api = fakeApi({ updateMe });
    const user = userEvent.setup();
    renderInChat(<ProfilePage />, api);
    const name = screen.getByRole("textbox", { name: "Name" });
    await user.clear(name);
    await user.type(name, "Ada King");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("status")).toHaveTextContent("Saved.");
    expect(updateMe).toHaveBeenCalledWith({ name: "Ada King" });
  });
});
