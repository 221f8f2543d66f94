#!/usr/bin/env bash
# The README's tour, run by `npm run tour`: activate the shipped rulebooks, import the example records, ask questions.
set -euo pipefail
cd "$(dirname "$0")/.."
db=data/tour.sqlite
rm -f "$db" "$db-wal" "$db-shm"
# The tour's records date from 2026; reading them at a fixed instant keeps its output the same on any day.
at=2026-11-23T12:00:00+08:00
sc() { echo; echo "\$ social-credit $*"; node bin/social-credit.js --db "$db" --at "$at" "$@"; }

sc rulebook activate rulebooks/national.yaml rulebooks/beijing.yaml rulebooks/jiangsu.yaml rulebooks/hangzhou.yaml rulebooks/rongcheng.yaml
sc import examples/records.ndjson
# Serious entries wait for a reviewer: nothing applies yet.
sc check 110105198506120034 restrict-air-travel
sc sign-offs list
for entry in $(node bin/social-credit.js --db "$db" --at "$at" sign-offs list --json | node -e 'for (const s of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(s.entry)'); do
  sc sign-offs approve "$entry" --reasons "final judgment; ground established"
done
sc check 110105198506120034 restrict-air-travel
sc notices 110105198506120034
sc check 110108201603150044 restrict-air-travel
sc explain 110105198506120034
sc import examples/records.ndjson
sc import examples/fulfilled.ndjson
sc check 110105198506120034 restrict-air-travel
sc status 371082198802100018
sc status 330106199211200063
echo
echo "The tour's database is $db, read as of $at; try: node bin/social-credit.js --db $db --at $at explain 320102199001010053"
