// Halls: the list (each can be renamed, moved or deleted), and a form that builds one from sections
// with a live preview of its seat map.
import { del, get, getAll, patch, post } from "../api.js";
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { SeatMap } from "../seats/map.js";
import { gradeColours } from "../seats/palette.js";
import { SeatStore } from "../seats/store.js";
import { legend } from "../seats/legend.js";
import { deleteDialog, editDialog } from "./dialogs.js";
import { errorBox, field, nameField, onSubmit, rowActions, table } from "./forms.js";
import { layOut } from "./layout.js";

const MAX_PREVIEW_SEATS = 20000;

export async function hallsView(main) {
  const list = h("div");
  let halls = [];
  const names = () => halls.map((x) => x.name);
  const refresh = async () => {
    halls = await getAll("/api/halls");
    replace(list, table(t("admin.halls.title"), [t("admin.name"), t("admin.halls.address"), t("admin.halls.seats"), ""],
      halls.map((x) => [x.name, x.address, String(x.capacity), rowActions(x.name,
        () => editHall(x, names, refresh), () => deleteHall(x, refresh))])));
  };
  const rows = h("tbody");
  const preview = h("div", { class: "preview" });
  const addRow = (name = "", rowsCount = 5, perRow = 10, grade = "R") => {
    const n = rows.children.length;
    const remove = h("button", { type: "button", class: "link", onclick: () => { tr.remove(); showPreview(); } }, t("admin.halls.remove"));
    const tr = h("tr", {},
      h("td", {}, h("input", { name: `sections[${n}].name`, "aria-label": t("admin.halls.sectionName"), value: name, required: true })),
      h("td", {}, h("input", { name: `sections[${n}].rows`, "aria-label": t("admin.halls.rows"), type: "number", min: 1, max: 200, value: rowsCount })),
      h("td", {}, h("input", { name: `sections[${n}].seats_per_row`, "aria-label": t("admin.halls.perRow"), type: "number", min: 1, max: 500, value: perRow })),
      h("td", {}, h("input", { name: `sections[${n}].grade`, "aria-label": t("admin.halls.grade"), value: grade, required: true })),
      h("td", {}, remove));
    rows.append(tr);
    showPreview();
  };
  const sections = () => [...rows.children].map((tr, n) => {
    const inputs = [...tr.querySelectorAll("input")];
    inputs.forEach((input) => { input.name = input.name.replace(/\[\d+\]/, `[${n}]`); });   // after a removal
    const [name, r, per, grade] = inputs.map((i) => i.value.trim());
    return { name, rows: Number(r), seats_per_row: Number(per), grade };
  });
  const showPreview = () => {
    const seats = layOut(sections());
    if (!seats.length || seats.length > MAX_PREVIEW_SEATS) {
      replace(preview, h("p", { class: "muted" }, t(seats.length ? "admin.halls.tooMany" : "admin.halls.addSection")));
      return;
    }
    const store = new SeatStore(seats);
    const colours = gradeColours(store.grades());
    const map = new SeatMap(store, { colours, selectable: () => false, label: t("admin.halls.previewLabel", { count: seats.length }) });
    replace(preview, h("p", { class: "preview-caption" }, t("admin.halls.preview", { count: seats.length })),
      legend(store.grades(), colours, []), map.element);
  };

  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-hall" },
    h("h2", { id: "new-hall" }, t("admin.halls.new")),
    nameField(t("admin.name"), { name: "name", required: true }, names),
    field(t("admin.halls.address"), { name: "address", required: true }),
    h("fieldset", {}, h("legend", {}, t("admin.halls.sections")),
      h("div", { class: "table-wrap" }, h("table", { class: "sections-table" },
        h("thead", {}, h("tr", {}, [t("admin.name"), t("admin.halls.rows"), t("admin.halls.perRow"), t("admin.halls.grade"), ""]
          .map((text) => h("th", { scope: "col" }, text)))),
        rows)),
      h("button", { type: "button", class: "secondary", onclick: () => addRow() }, t("admin.halls.addSectionButton"))),
    errorBox(),
    h("button", { type: "submit" }, t("admin.halls.create"))), async (data) => {
    const hall = await post("/api/halls", { name: data.get("name"), address: data.get("address"), sections: sections() });
    await refresh();
    list.querySelector("table")?.setAttribute("data-created", String(hall.id));
  });
  form.addEventListener("input", showPreview);
  form.addEventListener("reset", () => setTimeout(() => { rows.replaceChildren(); addRow("A"); }));
  addRow("A", 5, 10, "R");

  replace(main, h("h1", {}, t("admin.nav.halls")),
    h("div", { class: "admin-grid" }, form, h("div", { class: "stack" }, h("section", { class: "panel" }, preview),
      h("section", { class: "panel", "aria-label": t("admin.halls.all") }, list))));
  await refresh();
}

function editHall(hall, names, refresh) {
  editDialog(t("admin.editNamed", { name: hall.name }), [
    nameField(t("admin.name"), { name: "name", required: true, value: hall.name }, names, hall.name),
    field(t("admin.halls.address"), { name: "address", required: true, value: hall.address }),
  ], async (data) => {
    await patch(`/api/halls/${hall.id}`, { name: data.get("name"), address: data.get("address") });
    await refresh();
  });
}

async function deleteHall(hall, refresh) {
  const shows = (await getAll(`/api/performances?hall_id=${hall.id}`)).map((p) => p.title);
  deleteDialog({
    name: hall.name,
    dependents: shows.length ? [t("admin.halls.usedBy", { titles: shows.join(", ") })] : [],
    remove: async () => { await del(`/api/halls/${hall.id}`); await refresh(); },
    refusal: (err) => t("admin.halls.refused", { count: err.details.performance_ids?.length ?? shows.length }),
  });
}

export const hallOptions = async () => (await getAll("/api/halls")).map((x) => [String(x.id), t("admin.halls.option", { name: x.name, count: x.capacity })]);
export const hallGrades = async (id) => [...new Set((await get(`/api/halls/${id}`)).seats.map((s) => s.grade))];
