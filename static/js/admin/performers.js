// Performers: the list and a form to add one.
import { getAll, post } from "../api.js";
import { h, replace } from "../dom.js";
import { errorBox, field, onSubmit, table } from "./forms.js";

export async function performersView(main) {
  const list = h("div");
  const refresh = async () => {
    const people = await getAll("/api/performers");
    replace(list, table("Performers", ["Name", "Born", "Nationality"],
      people.map((p) => [p.name, p.birth_date || "—", p.nationality || "—"])));
  };
  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-performer" },
    h("h2", { id: "new-performer" }, "New performer"),
    field("Name", { name: "name", required: true }),
    field("Birth date", { name: "birth_date", type: "date" }),
    field("Nationality", { name: "nationality" }),
    errorBox(), h("button", { type: "submit" }, "Add performer")), async (data) => {
    await post("/api/performers", { name: data.get("name"), birth_date: data.get("birth_date") || null,
      nationality: data.get("nationality") || null });
    await refresh();
  });
  replace(main, h("h1", {}, "Performers"), h("div", { class: "admin-grid" }, form,
    h("section", { class: "panel", "aria-label": "All performers" }, list)));
  await refresh();
}
