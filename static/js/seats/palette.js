// Grade colours: distinct hues, dark enough for white marks, none of them the "mine" gold.
const COLOURS = ["#7b2cbf", "#c0392b", "#1f6fd1", "#138a5b", "#b0620e", "#0e8a9a", "#a61e6d", "#4d5bbf"];

/** {grade: colour}, in the order given (dearest first). */
export function gradeColours(grades) {
  return Object.fromEntries(grades.map(({ grade }, i) => [grade, COLOURS[i % COLOURS.length]]));
}
