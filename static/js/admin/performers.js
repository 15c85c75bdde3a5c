// Performers: the list (each can be changed or deleted) and a form to add one.
import { del, getAll, patch, post } from "../api.js";
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { deleteDialog, editDialog } from "./dialogs.js";
import { errorBox, field, nameField, onSubmit, rowActions, table } from "./forms.js";

export async function performersView(main) {
  const list = h("div");
  let people = [];
  const names = () => people.map((p) => p.name);
  const refresh = async () => {
    people = await getAll("/api/performers");
    const shows = await getAll("/api/performances");
    replace(list, table(t("admin.performers.title"), [t("admin.name"), t("admin.performers.born"), t("admin.performers.nationality"), ""],
      people.map((p) => [p.name, p.birth_date || "—", p.nationality || "—", rowActions(p.name,
        () => editDialog(t("admin.editNamed", { name: p.name }), performerFields(names, p), async (data) => {
          await patch(`/api/performers/${p.id}`, performerBody(data));
          await refresh();
        }),
        () => deleteDialog({
          name: p.name,
          dependents: castIn(shows, p.id).map((title) => t("admin.performers.leavesCast", { title })),
          remove: async () => { await del(`/api/performers/${p.id}`); await refresh(); },
        }))])));
  };
  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-performer" },
    h("h2", { id: "new-performer" }, t("admin.performers.new")),
    performerFields(names), errorBox(), h("button", { type: "submit" }, t("admin.performers.add"))), async (data) => {
    await post("/api/performers", performerBody(data));
    await refresh();
  });
  replace(main, h("h1", {}, t("admin.nav.performers")), h("div", { class: "admin-grid" }, form,
    h("section", { class: "panel", "aria-label": t("admin.performers.all") }, list)));
  await refresh();
}

/** The fields of a performer, empty for a new one or filled with `p`'s. */
const performerFields = (names, p = {}) => [
  nameField(t("admin.name"), { name: "name", required: true, value: p.name || "" }, names, p.name),
  field(t("admin.performers.birthDate"), { name: "birth_date", type: "date", value: p.birth_date || "" }),
  field(t("admin.performers.nationality"), { name: "nationality", value: p.nationality || "" }),
];

const performerBody = (data) => ({ name: data.get("name"), birth_date: data.get("birth_date") || null,
  nationality: data.get("nationality") || null });

const castIn = (shows, performerId) => shows.filter((s) => s.performers.some((c) => c.id === performerId)).map((s) => s.title);
