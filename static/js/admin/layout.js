// The seats a hall's sections make, laid out as the server does (server/catalogue/halls.py:
// sections stacked top to bottom, each centred on the widest, two empty rows between them), so the
// preview shows the hall before it is created.
const SECTION_GAP_ROWS = 2;

export function layOut(sections) {
  const valid = sections.filter((s) => s.name && s.rows > 0 && s.seats_per_row > 0 && s.grade);
  if (!valid.length) return [];
  const widest = Math.max(...valid.map((s) => s.seats_per_row));
  const seats = [];
  let top = 0;
  let id = 1;
  for (const s of valid) {
    const indent = (widest - s.seats_per_row) / 2;
    for (let row = 1; row <= s.rows; row += 1) {
      for (let number = 1; number <= s.seats_per_row; number += 1) {
        seats.push({ id: id++, section: s.name, row, number, x: indent + number, y: top + row, grade: s.grade });
      }
    }
    top += s.rows + SECTION_GAP_ROWS;
  }
  return seats;
}
