// 한국어: the pages' default words. Every key here has its English in en.js (tests compare the keys).
// One object per part of the pages, so changes to different parts never touch the same lines.

// ---- shared: money, counts, times, generic words --------------------------------------------------
const common = {
  "common.won": "{amount}원",
  "common.loading": "불러오는 중…",
  "common.close": "닫기",
  "common.dismiss": "알림 닫기",
  "common.wait.underMinute": "1분 이내",
  "common.wait.minutes": "약 {minutes}분",
  "common.wait.hours": "약 {hours}시간",
  "common.wait.hoursMinutes": "약 {hours}시간 {minutes}분",
};

// ---- the shell: header, language switch, sign-in dialog, errors, not-found ------------------------
const shell = {
  "shell.brand": "Ticket Blue",
};

// ---- the catalogue: performances, dates, venue, availability --------------------------------------
const catalogue = {
  "catalogue.title": "공연",
};

// ---- the seat map: map, list, legend, basket, best seats, seat watch ------------------------------
const map = {
  "map.title": "좌석 선택",
  "map.label": "좌석 배치도",
  "map.labelOf": "{title} 좌석 배치도, {count}석",
  "map.stage": "무대",
  "map.seat.place": "{section}구역 {row}열 {number}번",
  "map.seat.grade": "{grade}석",
  "map.seat.selected": "{state}, 선택됨",
  "map.seat.andMore": "{names} 외 {more}석",
  "map.state.available": "예매 가능",
  "map.state.mine": "내가 선택",
  "map.state.held": "다른 사람이 선택 중",
  "map.state.sold": "판매 완료",
  "map.state.blocked": "판매 안 함",
  "map.state.selected": "선택됨",
  "map.status.connecting": "연결 중…",
  "map.status.live": "실시간",
  "map.status.reconnecting": "연결이 끊겼습니다 — 다시 연결하는 중…",
  "map.status.gone": "이 회차는 삭제되었습니다. 좌석을 더 이상 판매하지 않습니다.",
  "map.view.group": "좌석 보기 방식",
  "map.view.map": "좌석 배치도",
  "map.view.list": "좌석 목록",
  "map.help.keys": "방향키로 좌석을 옮겨 다니고 Enter나 스페이스로 선택하거나 취소합니다. +와 −로 확대·축소합니다. Ctrl + 스크롤로 확대하고 끌어서 움직입니다. 좌석 목록에서도 고를 수 있습니다.",
  "map.help.touch": "구역을 누르면 확대됩니다. 좌석을 눌러 선택하고, 두 손가락으로 확대·축소, 끌어서 움직입니다. '전체 보기'로 돌아갑니다.",
  "map.zoom.group": "확대·축소",
  "map.zoom.in": "확대",
  "map.zoom.out": "축소",
  "map.zoom.whole": "전체 보기",
  "map.legend.title": "범례",
  "map.legend.grades": "좌석 등급",
  "map.legend.states": "좌석 상태",
  "map.legend.gradePrice": "{grade}석 {price}",
  "map.legend.watched": "빈자리 알림",
  "map.list.seat": "{row}열 {number}번",
  "map.list.section": "{section}구역",
  "map.list.count": "({total}석 중 {available}석 예매 가능)",
  "map.basket.title": "선택한 좌석",
  "map.basket.empty": "배치도나 목록에서 최대 {max}석까지 선택할 수 있습니다.",
  "map.basket.item": "{place} · {grade}석 · {price}",
  "map.basket.release": "취소",
  "map.basket.releaseSeat": "{place} 선택 취소",
  "map.basket.total": "{count}석 · {price}",
  "map.basket.bar": "{count}석 · {price} · 다음",
  "map.basket.heldFor": "남은 시간",
  "map.basket.continue": "다음 단계로 (결제)",
  "map.basket.showSeats": "좌석 보기",
  "map.basket.hideSeats": "접기",
  "map.best.title": "좋은 자리 찾기",
  "map.best.count": "{count}석",
  "map.best.countLabel": "좌석 수",
  "map.best.gradeLabel": "등급",
  "map.best.anyGrade": "모든 등급",
  "map.best.find": "찾기",
  "map.best.held": "{count}석을 잡았습니다: {places}",
  "map.watch.notify": "빈자리 알림",
  "map.watch.on": "빈자리 알림 중",
  "map.watch.already": "빈자리가 나면 알려 드립니다.",
  "map.watch.started": "{place}에 빈자리가 나면 알려 드릴게요.",
  "map.watch.limit": "한 공연에서 빈자리 알림은 {limit}개까지 받을 수 있습니다.",
  "map.watch.summary": "빈자리 알림 {count}건",
  "map.watch.stopAll": "알림 모두 끄기",
  "map.signInToHold": "좌석을 선택하려면 로그인하거나 회원가입하세요.",
  "map.say.held": "{place} 좌석을 {minutes}분 동안 잡아 두었습니다.",
  "map.say.released": "{place} 선택을 취소했습니다.",
  "map.say.nowAvailable": "{place} 좌석이 이제 예매 가능합니다.",
  "map.say.nowTaken": "{place} 좌석이 방금 선택되었습니다.",
  "map.say.taken": "{count}석 선택됨",
  "map.say.freed": "{count}석 풀림",
  "map.say.summary": "{changes}. 지금 {available}석 예매 가능.",
  "map.error.notAvailable": "{place}은(는) 지금 예매할 수 없는 좌석입니다. 다른 좌석을 선택해 주세요.",
  "map.error.justTaken": "죄송합니다. {place} 좌석을 방금 다른 분이 선택했습니다. 다른 좌석을 선택해 주세요.",
  "map.error.holdLimit": "한 공연에 최대 {max}석까지 선택할 수 있습니다.",
  "map.error.notEnough": "남은 좌석이 {count}석보다 적습니다. 좌석 수나 등급을 바꿔 보세요.",
  "map.error.saleNotOpen": "예매는 {opens}에 시작합니다. 그때부터 좌석을 선택할 수 있습니다.",
  "map.error.notAdmitted": "이 공연은 대기실을 거쳐 예매합니다. 차례가 되면 좌석을 선택할 수 있습니다.",
  "map.error.toQueue": "대기실로 가기",
  "map.error.expired": "{place} 좌석의 선점 시간이 끝났습니다. 아직 비어 있으면 다시 선택하세요.",
  "map.error.lost": "{place} 좌석은 더 이상 회원님이 선택한 좌석이 아닙니다.",
  "map.error.generic": "처리하지 못했습니다. 다시 시도해 주세요.",
  "map.error.reconnecting": "좌석 배치도에 다시 연결하는 중입니다. 잠시 후 다시 시도해 주세요.",
  "map.error.dropped": "연결이 끊겼습니다. 잠시 후 다시 시도해 주세요.",
};

// ---- booking: checkout, payment, reservation, my bookings, tickets, check-in -----------------------
const booking = {
  "booking.checkout": "결제하기",
};

// ---- the on-sale: waiting room, sale banner, turn, server clock ------------------------------------
const onsale = {
  "onsale.queue": "대기실",
};

export default { ...common, ...shell, ...catalogue, ...map, ...booking, ...onsale };
