import { paths } from "../router/routes";
import { Link } from "./Link";
import { PageHeader } from "./PageHeader";

export function NotFoundPage() {
  return (
    <section className="page">
      <PageHeader title="Nothing here" />
      <div className="page-body prose">
        <p>
          That page doesn't exist. <Link to={paths.home()}>Back to your rooms</Link>.
        </p>
      </div>
    </section>
  );
}
