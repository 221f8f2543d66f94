#!/usr/bin/env bash
# `npm start`: on first run, a demo city (100,000 people, 10,000 enterprises, ten years of records) in
# data/demo.sqlite with one API key per role; then the API on 127.0.0.1:${PORT:-8080} over it.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${SOCIAL_CREDIT_DB:-data/demo.sqlite}
keys=${db%.sqlite}-keys.json
port=${PORT:-8080}
sc() { node bin/social-credit.js --db "$db" "$@"; }

if [ ! -s "$keys" ] || [ "$(sc --json rulebook show 2>/dev/null | head -c 1)" != "{" ]; then
  # A half-made city from an interrupted first run is started again, not served.
  rm -f "$db" "$db-wal" "$db-shm" "$keys"
  echo "First run: generating the demo city in $db (about a minute)..."
  sc rulebook activate --no-rescore rulebooks/national.yaml rulebooks/beijing.yaml rulebooks/jiangsu.yaml rulebooks/hangzhou.yaml rulebooks/rongcheng.yaml > /dev/null
  sc generate --people 100000 --enterprises 10000 --years 10 --seed 2026
  key() { sc keys create --json "$@" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).key))'; }
  tmp="$keys.partial"
  {
    echo "{"
    echo "  \"admin\": \"$(key --role admin --label 'demo operator')\","
    echo "  \"agency\": \"$(key --role agency --source court --label 'Beijing courts')\","
    echo "  \"enforcer\": \"$(key --role enforcer --measures restrict-air-travel,restrict-high-speed-rail --label 'airline check-in desk')\","
    echo "  \"reviewer\": \"$(key --role reviewer --label 'credit office reviewer')\","
    echo "  \"auditor\": \"$(key --role auditor --label 'inspection office')\""
    echo "}"
  } > "$tmp"
  mv "$tmp" "$keys"
fi

# Someone the airline check applies to, for the example below (until public lists exist to look one up).
listed=$(node -e 'const db = new (require("better-sqlite3"))(process.argv[1], { readonly: true }); const r = db.prepare("SELECT subject FROM statuses WHERE measures LIKE ? AND length(subject) = 18 AND subject GLOB ? LIMIT 1").get("%restrict-air-travel%", "[1-6]*"); process.stdout.write(r ? r.subject : "110105198506120034")' "$db")
enforcer=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).enforcer)' "$keys")
cat <<MSG

The demo city is in $db; API keys for each role are in $keys.
The API is starting on http://127.0.0.1:$port (OpenAPI at /openapi.json, docs at /docs). Try:
  curl -H "Authorization: Bearer $enforcer" http://127.0.0.1:$port/v1/rulebooks
  curl -H "Authorization: Bearer $enforcer" http://127.0.0.1:$port/v1/checks/$listed/restrict-air-travel
The guided tour of the command line is \`npm run tour\`. Stop the server with Ctrl-C.
MSG
exec node bin/social-credit.js --db "$db" serve --port "$port"
