// Grade colours, the same wherever a hall is drawn (the buyer's map, the admin's preview and blocks):
// a colour follows the grade's name, not the order a page happens to list grades in. The grades
// Korean halls use (VIP, R, S, A, B, C) keep their own colours; any other grade takes one of the rest
// in the order of its name. Distinct hues, dark enough for white marks, none of them the "mine" gold.
const NAMED = { VIP: "#7b2cbf", R: "#c0392b", S: "#1f6fd1", A: "#138a5b", B: "#b0620e", C: "#0e8a9a" };
const OTHERS = ["#a61e6d", "#4d5bbf", "#5b7a12", "#8a4f2c", "#2f6f8f", "#7a3b8f"];

/** {grade: colour} for these grades ([{grade}] or names). */
export function gradeColours(grades) {
  const names = [...new Set(grades.map((g) => (typeof g === "string" ? g : g.grade)))];
  const named = (name) => NAMED[name.toUpperCase()];
  const used = new Set(names.map(named).filter(Boolean));
  const spare = OTHERS.concat(Object.values(NAMED).filter((c) => !used.has(c)));
  const others = names.filter((n) => !named(n)).sort();
  return Object.fromEntries(names.map((n) => [n, named(n) || spare[others.indexOf(n) % spare.length]]));
}
