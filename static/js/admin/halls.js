// Halls: the list, and a form that builds one from sections with a live preview of its seat map.
import { get, getAll, post } from "../api.js";
import { h, replace } from "../dom.js";
import { SeatMap } from "../seats/map.js";
import { gradeColours } from "../seats/palette.js";
import { SeatStore } from "../seats/store.js";
import { legend } from "../seats/legend.js";
import { errorBox, field, onSubmit, table } from "./forms.js";
import { layOut } from "./layout.js";

const MAX_PREVIEW_SEATS = 20000;

export async function hallsView(main) {
  const list = h("div");
  const refresh = async () => {
    const halls = await getAll("/api/halls");
    replace(list, table("Halls", ["Name", "Address", "Seats"], halls.map((x) => [x.name, x.address, String(x.capacity)])));
  };
  const rows = h("tbody");
  const preview = h("div", { class: "preview" });
  const addRow = (name = "", rowsCount = 5, perRow = 10, grade = "R") => {
    const n = rows.children.length;
    const remove = h("button", { type: "button", class: "link", onclick: () => { tr.remove(); showPreview(); } }, "Remove");
    const tr = h("tr", {},
      h("td", {}, h("input", { name: `sections[${n}].name`, "aria-label": "Section name", value: name, required: true })),
      h("td", {}, h("input", { name: `sections[${n}].rows`, "aria-label": "Rows", type: "number", min: 1, max: 200, value: rowsCount })),
      h("td", {}, h("input", { name: `sections[${n}].seats_per_row`, "aria-label": "Seats per row", type: "number", min: 1, max: 500, value: perRow })),
      h("td", {}, h("input", { name: `sections[${n}].grade`, "aria-label": "Grade", value: grade, required: true })),
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
      replace(preview, h("p", { class: "muted" }, seats.length ? "Too many seats to preview." : "Add a section to see the layout."));
      return;
    }
    const store = new SeatStore(seats);
    const colours = gradeColours(store.grades());
    const map = new SeatMap(store, { colours, selectable: () => false, label: `Preview of the layout, ${seats.length} seats` });
    replace(preview, h("p", { class: "preview-caption" }, `Preview: ${seats.length} seats`),
      legend(store.grades(), colours, []), map.element);
  };

  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-hall" },
    h("h2", { id: "new-hall" }, "New hall"),
    field("Name", { name: "name", required: true }),
    field("Address", { name: "address", required: true }),
    h("fieldset", {}, h("legend", {}, "Sections (front to back)"),
      h("table", { class: "sections-table" },
        h("thead", {}, h("tr", {}, ["Name", "Rows", "Seats per row", "Grade", ""].map((t) => h("th", { scope: "col" }, t)))),
        rows),
      h("button", { type: "button", class: "secondary", onclick: () => addRow() }, "Add section")),
    errorBox(),
    h("button", { type: "submit" }, "Create hall")), async (data) => {
    const hall = await post("/api/halls", { name: data.get("name"), address: data.get("address"), sections: sections() });
    await refresh();
    list.querySelector("table")?.setAttribute("data-created", String(hall.id));
  });
  form.addEventListener("input", showPreview);
  form.addEventListener("reset", () => setTimeout(() => { rows.replaceChildren(); addRow("A"); }));
  addRow("A", 5, 10, "R");

  replace(main, h("h1", {}, "Halls"),
    h("div", { class: "admin-grid" }, form, h("div", { class: "stack" }, h("section", { class: "panel" }, preview),
      h("section", { class: "panel", "aria-label": "All halls" }, list))));
  await refresh();
}

export const hallOptions = async () => (await getAll("/api/halls")).map((x) => [String(x.id), `${x.name} (${x.capacity} seats)`]);
export const hallGrades = async (id) => [...new Set((await get(`/api/halls/${id}`)).seats.map((s) => s.grade))];
