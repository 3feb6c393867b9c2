#!/usr/bin/env bash
# sfu-sttd against tap/STT-API.md, driven with curl on loopback: /health;
# an espeak-ng sentence streamed in 100 ms chunks over one kept-alive
# connection gives partials, then a final holding at least 60% of the words,
# with seq echoed and times monotonic; stream-end; the errors: bad JSON, bad
# id, wrong sample rate -> 400, unknown stream -> 404, out-of-order seq -> 409
# with expectedSeq, oversized chunk -> 413 (the connection stays usable),
# odd byte count -> 400, a third stream with --max-streams 2 -> 503 with
# Retry-After (restarting an existing id still works), unknown path -> 404,
# wrong method -> 405; an empty chunk and "Expect: 100-continue" work; exit 0
# on SIGTERM with every stream freed.  Idle expiry (60 s) is not waited for.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh

BUILD=${BUILD:-build}
SENTENCE="i would like to order a cup of coffee"

t_begin sttd

# A port nothing listens on (bash connects to it to find out).
PORT=
for p in $(seq 18001 18099); do
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		PORT=$p
		break
	fi
done
t_expect_ge "a free port in 18001-18099" "${PORT:-0}" 18001
U=http://127.0.0.1:$PORT

# The sentence as 16 kHz mono s16 with silence around it (seeded dither, so
# every run sends the same samples), cut into 3200-byte chunks.
t_check "espeak-ng speaks the sentence" \
	espeak-ng -v en-us -s 140 -w "$LOGDIR/s.wav" "$SENTENCE"
t_check "sox makes 16 kHz mono s16" \
	sox -R "$LOGDIR/s.wav" -r 16000 -c 1 -b 16 -e signed-integer "$LOGDIR/s.raw" pad 0.5 1.0
mkdir -p "$LOGDIR/chunks"
split -b 3200 -d -a 4 "$LOGDIR/s.raw" "$LOGDIR/chunks/c"
NCHUNKS=$(find "$LOGDIR/chunks" -type f -name 'c*' | wc -l)
t_expect_ge "the sentence is over 2 s of chunks" "$NCHUNKS" 20

t_bg sttd "$BUILD/sfu-sttd" --port "$PORT" --bind 127.0.0.1 --max-streams 2
t_wait_for "sfu-sttd answers /health" 15 curl -sf "$U/health"

# call NAME [curl args]: one request; its body in $LOGDIR/NAME.body, its
# headers in NAME.hdr; prints the status code.
call() {
	local name=$1
	shift
	curl -s -o "$LOGDIR/$name.body" -D "$LOGDIR/$name.hdr" -w '%{http_code}' "$@" || echo 000
}
# json NAME EXPR: a Python expression over the body parsed as j.
json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$LOGDIR/$1.body" "$2" 2>/dev/null || echo "(unparsable)"
}
post_json() { # NAME PATH JSON
	call "$1" -X POST -H 'Content-Type: application/json' --data-binary "$3" "$U$2"
}
post_pcm() { # NAME ID SEQ FILE
	call "$1" -X POST -H 'Content-Type: application/octet-stream' \
		--data-binary "@$4" "$U/api/v1/transcribe-stream?streamId=$2&seq=$3"
}

t_expect_eq "GET /health is 200" "$(call health "$U/health")" 200
t_expect_eq "health: status, engine, streams" \
	"$(json health '(j["status"], j["engine"], j["streams"])')" "('ok', 'pocketsphinx', 0)"

t_expect_eq "stream-start is 200" "$(post_json start /api/v1/stream-start \
	'{"streamId": "node-a/pr12:1", "sampleRate": 16000, "channels": 1, "encoding": "pcm_s16le", "language": "en-US"}')" 200
t_expect_eq "stream-start echoes the id" "$(json start 'j["streamId"]')" "node-a/pr12:1"

# Every chunk in one curl run: one connection, kept alive.  Each reply on a
# line of its own followed by a tab and its status.
: >"$LOGDIR/chunks.cfg"
for ((i = 0; i < NCHUNKS; i++)); do
	{
		((i == 0)) || echo next
		printf 'url = "%s/api/v1/transcribe-stream?streamId=node-a%%2Fpr12:1&seq=%d"\n' "$U" "$i"
		printf 'data-binary = "@%s/chunks/c%04d"\n' "$LOGDIR" "$i"
		echo 'header = "Content-Type: application/octet-stream"'
		echo 'write-out = "\t%{http_code}\n"'
		echo silent
	} >>"$LOGDIR/chunks.cfg"
done
curl -v -K "$LOGDIR/chunks.cfg" >"$LOGDIR/chunks.out" 2>"$LOGDIR/chunks.err" || true
t_expect_eq "every chunk is 200" \
	"$(cut -f2 "$LOGDIR/chunks.out" | sort | uniq -c | awk '{print $2 "x" $1}')" "200x$NCHUNKS"
t_expect_ge "the chunks share one kept-alive connection" \
	"$(grep -c 'Re-using existing connection' "$LOGDIR/chunks.err" || true)" $((NCHUNKS - 1))

t_expect_eq "stream-end is 200" "$(post_json end /api/v1/stream-end '{"streamId": "node-a/pr12:1"}')" 200
cut -f1 "$LOGDIR/chunks.out" >"$LOGDIR/replies.jsonl"
cat "$LOGDIR/end.body" >>"$LOGDIR/replies.jsonl"
echo >>"$LOGDIR/replies.jsonl"

# The results, in order: seq echoed, partials before the final, the final
# text holding >= 60% of the words, times ordered.
python3 - "$LOGDIR/replies.jsonl" "$SENTENCE" >"$LOGDIR/verdict.txt" 2>&1 <<'PY' || true
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = sys.argv[2].split()
seq_ok = all(r.get("seq") == i for i, r in enumerate(lines[:-1]))
res = [x for r in lines for x in r["results"]]
finals = [x for x in res if x["final"] and x["text"]]
first_partial = next((i for i, x in enumerate(res) if not x["final"]), None)
first_final = next((i for i, x in enumerate(res) if x["final"] and x["text"]), None)
heard = " ".join(x["text"] for x in finals)
got = set(heard.split())
recall = 100 * sum(1 for w in want if w in got) // len(want)
ordered, floor, last = True, 0, 0
for x in res:
    if not (floor <= x["startMs"] <= x["endMs"]) or x["endMs"] < last:
        ordered = False
    last = x["endMs"]
    if x["final"]:
        floor = x["endMs"]
print("seq", "ok" if seq_ok else "bad")
print("partial-first", "yes" if first_partial is not None and first_final is not None
      and first_partial < first_final else "no")
print("recall", recall)
print("times", "ordered" if ordered else "disordered")
print("heard", heard)
PY
verdict() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$LOGDIR/verdict.txt"; }
echo "    heard: \"$(verdict heard)\""
t_expect_eq "each reply echoes its seq" "$(verdict seq)" ok
t_expect_eq "partials come before the final" "$(verdict partial-first)" yes
t_expect_ge "the final holds >= 60% of the words" "$(verdict recall)" 60
t_expect_eq "result times are ordered" "$(verdict times)" ordered
call health "$U/health" >/dev/null
t_expect_eq "health: no stream left" "$(json health 'j["streams"]')" 0

# Errors.
t_expect_eq "bad JSON is 400" "$(post_json e1 /api/v1/stream-start '{"streamId": ')" 400
t_expect_eq "400 says why" "$(json e1 '"error" in j')" True
t_expect_eq "bad streamId is 400" "$(post_json e2 /api/v1/stream-start '{"streamId": "a b"}')" 400
t_expect_eq "wrong sample rate is 400" \
	"$(post_json e3 /api/v1/stream-start '{"streamId": "s1", "sampleRate": 8000}')" 400
t_expect_eq "chunk for an unknown stream is 404" "$(post_pcm e4 nope 0 "$LOGDIR/chunks/c0000")" 404
t_expect_eq "stream-end of an unknown stream is 404" \
	"$(post_json e5 /api/v1/stream-end '{"streamId": "nope"}')" 404

t_expect_eq "stream s1 starts" "$(post_json s1 /api/v1/stream-start '{"streamId": "s1"}')" 200
t_expect_eq "seq 1 before seq 0 is 409" "$(post_pcm e6 s1 1 "$LOGDIR/chunks/c0000")" 409
t_expect_eq "409 gives expectedSeq 0" "$(json e6 'j["expectedSeq"]')" 0
t_expect_eq "seq 0 is 200" "$(post_pcm ok0 s1 0 "$LOGDIR/chunks/c0000")" 200
t_expect_eq "seq 0 again is 409" "$(post_pcm e7 s1 0 "$LOGDIR/chunks/c0001")" 409
t_expect_eq "409 gives expectedSeq 1" "$(json e7 'j["expectedSeq"]')" 1
head -c 40000 /dev/zero >"$LOGDIR/big.raw"
head -c 3199 "$LOGDIR/s.raw" >"$LOGDIR/odd.raw"
t_expect_eq "a 40000-byte chunk is 413" "$(post_pcm e8 s1 1 "$LOGDIR/big.raw")" 413
t_expect_eq "an odd byte count is 400" "$(post_pcm e9 s1 1 "$LOGDIR/odd.raw")" 400
t_expect_eq "a missing seq is 400" "$(call e10 -X POST --data-binary "@$LOGDIR/chunks/c0001" \
	"$U/api/v1/transcribe-stream?streamId=s1")" 400
# After a 413 the connection is still good: the next request reuses it.
survives_413() {
	curl -v -s -o /dev/null -X POST --data-binary "@$LOGDIR/big.raw" \
		"$U/api/v1/transcribe-stream?streamId=s1&seq=1" \
		--next -s -o /dev/null "$U/health" 2>&1 | grep -q 'Re-using existing connection'
}
t_check "the connection survives a 413" survives_413
t_expect_eq "the refused chunks did not advance seq" "$(post_pcm ok1 s1 1 "$LOGDIR/chunks/c0001")" 200
t_expect_eq "an empty chunk (Content-Length: 0) is 200" "$(call ok2 -X POST --data-binary '' \
	"$U/api/v1/transcribe-stream?streamId=s1&seq=2")" 200
t_expect_eq "the empty chunk has no results" "$(json ok2 'len(j["results"])')" 0

# A client that asks "Expect: 100-continue" is told to go on (curl would
# otherwise wait --expect100-timeout before sending the body).
expect_continue() {
	curl -v -s -o /dev/null --expect100-timeout 10 -H 'Expect: 100-continue' \
		--data-binary "@$LOGDIR/chunks/c0003" "$U/api/v1/transcribe-stream?streamId=s1&seq=3" \
		2>&1 | grep -q '^< HTTP/1.1 100 Continue'
}
t_check "Expect: 100-continue gets 100 Continue" expect_continue
t_expect_eq "stream s2 starts" "$(post_json s2 /api/v1/stream-start '{"streamId": "s2"}')" 200
t_expect_eq "a third stream is 503" "$(post_json e11 /api/v1/stream-start '{"streamId": "s3"}')" 503
t_check "503 carries Retry-After" grep -qi '^retry-after: [0-9]' "$LOGDIR/e11.hdr"
t_expect_eq "restarting s1 while full is 200" \
	"$(post_json s1b /api/v1/stream-start '{"streamId": "s1"}')" 200
t_expect_eq "the restarted s1 refuses seq 2" "$(post_pcm e12 s1 2 "$LOGDIR/chunks/c0002")" 409
t_expect_eq "the restarted s1 wants seq 0" "$(json e12 'j["expectedSeq"]')" 0
call health "$U/health" >/dev/null
t_expect_eq "health counts 2 streams" "$(json health 'j["streams"]')" 2
t_expect_eq "an unknown path is 404" "$(call e13 "$U/api/v1/nothing")" 404
t_expect_eq "GET on a POST endpoint is 405" "$(call e14 "$U/api/v1/stream-start")" 405

t_check "sfu-sttd exits 0 on SIGTERM" t_stop sttd
t_check "sfu-sttd says what it did" grep -q 'streams started' "$LOGDIR/sttd.log"
t_end
