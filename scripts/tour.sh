#!/usr/bin/env bash
# The README's tour, run by `npm start`: activate the shipped rulebooks, import the example records, ask questions, then serve the API.
set -euo pipefail
cd "$(dirname "$0")/.."
db=data/tour.sqlite
rm -f "$db" "$db-wal" "$db-shm"
# The tour's records date from 2026; reading them at a fixed instant keeps its output the same on any day.
at=2026-11-23T12:00:00+08:00
sc() { echo; echo "\$ social-credit $*"; node bin/social-credit.js --db "$db" --at "$at" "$@"; }

sc rulebook activate rulebooks/national.yaml rulebooks/beijing.yaml rulebooks/jiangsu.yaml rulebooks/hangzhou.yaml rulebooks/rongcheng.yaml
sc import examples/records.ndjson
sc check 110105198506120034 restrict-air-travel
sc check 110108201603150044 restrict-air-travel
sc explain 110105198506120034
sc import examples/records.ndjson
sc import examples/fulfilled.ndjson
sc check 110105198506120034 restrict-air-travel
sc status 371082198802100018
sc status 330106199211200063
echo
echo "The tour's database is $db, read as of $at; try: node bin/social-credit.js --db $db --at $at explain 320102199001010053"

# One key per role for trying the API; they live only as long as this database.
keys=data/demo-keys.json
key() { node bin/social-credit.js --db "$db" --at "$at" keys create --json "$@" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).key))'; }
{
  echo "{"
  echo "  \"admin\": \"$(key --role admin --label 'demo operator')\","
  echo "  \"agency\": \"$(key --role agency --source court --label 'Dongcheng District People'"'"'s Court')\","
  echo "  \"enforcer\": \"$(key --role enforcer --measures restrict-air-travel,restrict-high-speed-rail --label 'airline check-in desk')\","
  echo "  \"reviewer\": \"$(key --role reviewer --label 'credit office reviewer')\","
  echo "  \"auditor\": \"$(key --role auditor --label 'inspection office')\","
  echo "  \"subject\": \"$(key --role subject --subject 110105198506120034 --label 'the debtor himself')\""
  echo "}"
} > "$keys"
port=${PORT:-8080}
enforcer=$(node -e 'process.stdout.write(require("./'"$keys"'").enforcer)')
cat <<MSG

API keys for each role are in $keys. The API is starting on http://127.0.0.1:$port (docs at /docs); try:
  curl -H "Authorization: Bearer $enforcer" http://127.0.0.1:$port/v1/checks/110105198506120034/restrict-air-travel
Stop it with Ctrl-C.
MSG
exec node bin/social-credit.js --db "$db" serve --port "$port"
