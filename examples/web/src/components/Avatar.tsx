import { avatarURL } from "../api/client";

/** Avatar is a person's picture: the server draws initials on a colour. */
export function Avatar({ user, size = 36 }: { user: { id: number; name: string; avatar_url?: string }; size?: number }) {
  return (
    <img
      className="avatar"
      src={user.avatar_url || avatarURL(user.id)}
      alt=""
      width={size}
      height={size}
      loading="lazy"
      decoding="async"
    />
  );
}
