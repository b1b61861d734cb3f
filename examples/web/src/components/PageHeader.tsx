import { useContext, type ReactNode } from "react";
import { DrawerContext } from "../hooks/contexts";
import { Icon } from "./Icon";

/** PageHeader is a page's title bar; on a phone it also opens the sidebar. */
export function PageHeader({ title, children, subtitle }: { title: ReactNode; subtitle?: ReactNode; children?: ReactNode }) {
  const drawer = useContext(DrawerContext);
  return (
    <header className="page-header">
      <button
        className="icon-button menu-button"
        type="button"
        aria-label="Show rooms"
        aria-expanded={drawer.open}
        aria-controls="sidebar"
        onClick={() => drawer.setOpen(!drawer.open)}
      >
        <Icon name="menu" />
      </button>
      <div className="page-title">
        <h1>{title}</h1>
        {subtitle && <p className="page-subtitle">{subtitle}</p>}
      </div>
      {children && <div className="page-actions">{children}</div>}
    </header>
  );
}
