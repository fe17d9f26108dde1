#!/usr/bin/env bash
# --format html in a real browser: headless Chromium (Debian's chromium)
# renders the drill's and compare's pages of two plain dumps that differ (a
# changed row, a missing row) to PNGs, and the page's DOM, as Chromium built
# it, must hold the verdict, every table (a bar each) and the findings with
# their keys. The page must fetch nothing: no src, href, url() or @import.
#   html_report_test.sh VOUCH_BINARY
set -euo pipefail
VOUCH=$1
command -v chromium >/dev/null || { echo "chromium is not installed (scripts/install-deps.sh installs it)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A plain dump of three tables; $1: how the copy differs ("" none).
dump() {
  echo "-- PostgreSQL database dump"
  for t in accounts orders order_lines; do
    echo
    echo "--"
    echo "-- Data for Name: $t; Type: TABLE DATA; Schema: public; Owner: vouch"
    echo "--"
    echo
    echo "COPY public.$t (id, note) FROM stdin;"
    n=$([ "$t" = order_lines ] && echo 5000 || echo 800)
    seq 1 "$n" | awk -v t="$t" -v d="$1" '{
      if (d == "changed" && t == "orders" && $1 == 17) { print $1 "\tCHANGED"; next }
      if (d == "changed" && t == "order_lines" && $1 == 4242) next
      print $1 "\t" t "-" $1 }'
    echo '\.'
  done
  echo
  echo "-- PostgreSQL database dump complete"
}
dump "" >"$work/source.sql"
dump changed >"$work/restored.sql"

# Chromium as a test runs it: no sandbox (root, containers), no GPU.
browse() {
  chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions "$@" \
    2>>"$work/chromium.log"
}

check_page() {  # check_page NAME FILE VERDICT_TEXT
  local name=$1 page=$2 verdict=$3
  grep -qiE '(src|href)=|url\(|@import' "$page" && fail "$name: the page refers to something outside it"
  browse --dump-dom "file://$page" >"$work/$name.dom" || fail "$name: chromium could not load the page"
  browse --window-size=1200,1800 --screenshot="$work/$name.png" "file://$page" >/dev/null ||
    fail "$name: chromium could not render the page"
  [ "$(head -c 8 "$work/$name.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$name: no PNG"
  [ "$(stat -c %s "$work/$name.png")" -gt 20000 ] || fail "$name: the PNG is nearly empty"
  grep -q "<div id=\"verdict\" class=\"fail\">$verdict" "$work/$name.dom" ||
    fail "$name: the DOM lacks the verdict '$verdict'"
  for t in public.accounts public.orders public.order_lines; do
    grep -q "<g class=\"bar\" data-table=\"$t\"" "$work/$name.dom" || fail "$name: no bar for $t"
  done
  grep -q '<section id="timeline">' "$work/$name.dom" || fail "$name: no timeline"
  # The findings name both differing tables with their keys.
  sed -n '/<section id="findings">/,/<\/section>/p' "$work/$name.dom" >"$work/$name.findings"
  grep -q 'public.orders' "$work/$name.findings" || fail "$name: public.orders not among the findings"
  # (Tables without a key: a row is named by its content.)
  grep -qP '<code>missing row 17\torders-17</code>' "$work/$name.findings" || fail "$name: the changed row is not shown"
  grep -qP '<code>extra row 17\tCHANGED</code>' "$work/$name.findings" || fail "$name: the changed row is not shown"
  grep -qP '<code>missing row 4242\torder_lines-4242</code>' "$work/$name.findings" ||
    fail "$name: the missing row is not shown"
  echo "$name: verdict, 3 tables, findings with keys; PNG $(stat -c %s "$work/$name.png") bytes"
}

set +e
"$VOUCH" drill -q "$work/source.sql" "$work/restored.sql" --format html -o "$work/drill.html" >"$work/drill.txt"
rc=$?
"$VOUCH" compare -q "$work/source.sql" "$work/restored.sql" --format html >"$work/compare.html"
rc_compare=$?
set -e
[ "$rc" -eq 1 ] || fail "drill of differing dumps exited $rc, not 1"
[ "$rc_compare" -eq 1 ] || fail "compare of differing dumps exited $rc_compare, not 1"
grep -q '❌ FAIL' "$work/drill.txt" || fail "with -o, stdout should get the text report"
check_page drill "$work/drill.html" "❌ FAIL — "
grep -q '<h2>Executive Summary</h2>' "$work/drill.dom" || fail "drill: the DR report's sections are missing"
check_page compare "$work/compare.html" "❌ FAIL — 2 findings"
echo PASS
