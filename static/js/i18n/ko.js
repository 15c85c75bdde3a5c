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
  "shell.skip": "본문으로 건너뛰기",
  "shell.nav": "주 메뉴",
  "shell.performances": "공연",
  "shell.myBookings": "예매 내역",
  "shell.switchLanguage": "{name}로 보기",
  "shell.signIn": "로그인 / 회원가입",
  "shell.signOut": "로그아웃",
  "shell.signedIn": "로그인됨",
  "shell.home": "공연 목록으로",
  "shell.error.title": "문제가 생겼습니다",
  "shell.error.gone": "없는 페이지이거나 삭제된 페이지입니다.",
  "shell.error.generic": "잠시 후 다시 시도해 주세요.",
  "shell.notFound.title": "페이지를 찾을 수 없습니다",
  "shell.notFound.text": "주소가 바뀌었거나 없는 페이지입니다.",
};

// ---- the catalogue: performances, dates, venue, availability --------------------------------------
const catalogue = {
  "catalogue.title": "공연",
  "catalogue.search": "공연 검색",
  "catalogue.searchPlaceholder": "공연 제목",
  "catalogue.none": "찾는 공연이 없습니다.",
  "catalogue.chooseDate": "날짜 선택",
  "catalogue.chooseDateFor": "{title} 날짜 선택",
  "catalogue.poster": "{title} 포스터",
  "catalogue.category.concert": "콘서트",
  "catalogue.category.musical": "뮤지컬",
  "catalogue.category.play": "연극",
  "catalogue.category.classical": "클래식",
  "catalogue.category.dance": "무용",
  "catalogue.category.etc": "기타",
};

// ---- the seat map: map, list, legend, basket, best seats, seat watch ------------------------------
const map = {
  "map.title": "좌석 선택",
};

// ---- booking: checkout, payment, reservation, my bookings, tickets, check-in -----------------------
const booking = {
  "booking.checkout": "결제하기",
};

// ---- the on-sale: waiting room, sale banner, turn, server clock ------------------------------------
const onsale = {
  "onsale.queue": "대기실",
  "onsale.serverTime": "서버 시각",
};

export default { ...common, ...shell, ...catalogue, ...map, ...booking, ...onsale };
